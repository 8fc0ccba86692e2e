"""A LangChain chain whose chat history lives in an llm_sessions store (SQLite here), with the
usage each reply reports recorded as tokens and cost. The model is scripted (offline);
``pip install "llm-sessions[langchain]"``.

``RunnableWithMessageHistory`` reads the history before each turn and adds the turn to it; a
new history object on the same store (or another process) resumes the conversation.

    python examples/langchain_history.py
"""

# expect: turn 1: You said 'Hi, I am Ada.' (1 messages seen)
# expect: turn 2: You said 'What is my name?' (3 messages seen)
# expect: resumed: 4 messages (human, ai, human, ai)
# expect: replies: 64 tokens reported by gpt-4o-mini
# expect: session: 75 tokens, $0.000013

from __future__ import annotations

import asyncio
import tempfile
import warnings
from pathlib import Path

from langchain_core.messages import AIMessage
from langchain_core.prompt_values import PromptValue
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import RunnableLambda
from langchain_core.runnables.history import RunnableWithMessageHistory

from llm_sessions import EventSource
from llm_sessions.integrations.langchain import LLMSessionsChatMessageHistory
from llm_sessions.storage import open_store

# langchain-core 1.x points to LangGraph for new code, and still ships this class.
warnings.filterwarnings("ignore", "RunnableWithMessageHistory is deprecated")


def scripted_model(prompt: PromptValue) -> AIMessage:
    """Echoes the question; each reply reports 30 tokens in and 2 out, as a provider would."""
    seen = prompt.to_messages()
    return AIMessage(
        f"You said {seen[-1].content!r} ({len(seen)} messages seen)",
        usage_metadata={"input_tokens": 30, "output_tokens": 2, "total_tokens": 32},
        response_metadata={"model_name": "gpt-4o-mini"},
    )


async def main() -> None:
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'chat.db'}"
    store = open_store(url)  # one store for every history the chain asks for
    prompt = ChatPromptTemplate.from_messages(
        [MessagesPlaceholder("history"), ("human", "{question}")]
    )
    chain = RunnableWithMessageHistory(
        prompt | RunnableLambda(scripted_model),
        lambda session_id: LLMSessionsChatMessageHistory(session_id, store=store),
        input_messages_key="question",
        history_messages_key="history",
    )
    config = {"configurable": {"session_id": "ada"}}
    for turn, question in enumerate(["Hi, I am Ada.", "What is my name?"], start=1):
        reply = await chain.ainvoke({"question": question}, config=config)  # type: ignore[arg-type]
        print(f"turn {turn}: {reply.content}")
    await store.close()

    resumed = LLMSessionsChatMessageHistory("ada", store=url)
    messages = await resumed.aget_messages()
    print(f"resumed: {len(messages)} messages ({', '.join(m.type for m in messages)})")
    session = await resumed.store.get("ada")
    assert session is not None
    replies = [e.token_usage for e in session.events if e.source is EventSource.LLM]
    reported = sum(usage.total_tokens for usage in replies if usage is not None)
    print(f"replies: {reported} tokens reported by gpt-4o-mini")
    print(f"session: {session.total_tokens} tokens, ${session.total_cost:.6f}")
    await resumed.aclose()


if __name__ == "__main__":
    asyncio.run(main())
