"""Integrations with LLM client libraries, each behind its extra.

* ``llm_sessions.integrations.openai`` (``pip install "llm-sessions[openai]"``): ``chat``, a
  chat-completions loop that reads the session, records every reply with the reported usage and
  runs the tools the model calls.
* ``llm_sessions.integrations.openai_agents`` (``pip install "llm-sessions[agents]"``):
  ``LLMSessionsSession``, the OpenAI Agents SDK ``Session`` protocol on any store.
* ``llm_sessions.integrations.adk`` (``pip install "llm-sessions[adk]"``):
  ``LLMSessionsSessionService``, Google ADK's ``BaseSessionService`` on any store.
* ``llm_sessions.integrations.langchain`` (``pip install "llm-sessions[langchain]"``):
  ``LLMSessionsChatMessageHistory``, a LangChain ``BaseChatMessageHistory``.
* ``llm_sessions.integrations.llama_index`` (``pip install "llm-sessions[llama-index]"``):
  ``LLMSessionsChatStore``, a LlamaIndex ``BaseChatStore`` (for ``ChatMemoryBuffer``), and in
  ``llama_index_memory`` ``LLMSessionsMemoryStore``, the ``AsyncDBChatStore`` ``Memory`` takes.
* ``llm_sessions.integrations.pydantic_ai`` (``pip install "llm-sessions[pydantic-ai]"``):
  ``PydanticAIHistory``, a Pydantic AI message history.

Nothing is imported here, so ``import llm_sessions.integrations`` never needs an extra; importing
an integration without its package raises ``ImportError`` naming the extra to install.
"""

from __future__ import annotations

__all__: list[str] = []
