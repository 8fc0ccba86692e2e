"""A LlamaIndex ``ChatMemoryBuffer`` whose chat store is an llm_sessions store (SQLite here),
side by side with LlamaIndex's own ``SimpleChatStore``: the buffer holds the same messages and
hands the model the same window. ``pip install "llm-sessions[llama-index]"``; offline.

The chat store's methods are synchronous here (no event loop runs): each call runs on a
private event loop. The async ones (``aput``, ``aget``) work the same.

    python examples/llama_index_chat_store.py
"""

# expect: all messages: 6, the same as SimpleChatStore's: True
# expect: window under 40 tokens: 3 messages, the same as SimpleChatStore's: True
# expect: keys: ['ada', 'grace']
# expect: another store object reads 6 messages for ada
# expect: after delete_last_message: 5 messages, the last one: assistant

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from llama_index.core.llms import ChatMessage, MessageRole
from llama_index.core.memory import ChatMemoryBuffer
from llama_index.core.storage.chat_store import SimpleChatStore

from llm_sessions.integrations.llama_index import LLMSessionsChatStore
from llm_sessions.tokens import load_encoding

USER, ASSISTANT = MessageRole.USER, MessageRole.ASSISTANT
SCRIPT = [
    ChatMessage(role=MessageRole.SYSTEM, content="You are a terse assistant."),
    ChatMessage(role=USER, content="Hi, I am Ada. I write programs for the Analytical Engine."),
    ChatMessage(role=ASSISTANT, content="Hello Ada. What are you working on today?"),
    ChatMessage(role=USER, content="Bernoulli numbers."),
    ChatMessage(role=ASSISTANT, content="A fine choice: note G is the famous one."),
    ChatMessage(role=USER, content="What is my name?"),
]
# The shipped cl100k_base vocabulary: LlamaIndex's default tokenizer would download it.
TOKENIZER = load_encoding("cl100k_base").encode


def buffer_over(chat_store: object) -> ChatMemoryBuffer:
    return ChatMemoryBuffer.from_defaults(
        chat_store=chat_store, chat_store_key="ada", token_limit=40, tokenizer_fn=TOKENIZER
    )


def main() -> None:
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'chat.db'}"
    ours = LLMSessionsChatStore(store=url)
    buffers = [buffer_over(ours), buffer_over(SimpleChatStore())]
    for buffer in buffers:
        for message in SCRIPT:
            buffer.put(message)
    everything = [buffer.get_all() for buffer in buffers]
    window = [buffer.get() for buffer in buffers]
    print(f"all messages: {len(everything[0])}, the same as SimpleChatStore's: ", end="")
    print(everything[0] == everything[1] == SCRIPT)
    print(f"window under 40 tokens: {len(window[0])} messages, ", end="")
    print(f"the same as SimpleChatStore's: {window[0] == window[1]}")

    ours.add_message("grace", ChatMessage(role=USER, content="Hello"))
    print(f"keys: {ours.get_keys()}")
    reader = LLMSessionsChatStore(store=url)
    print(f"another store object reads {len(reader.get_messages('ada'))} messages for ada")
    ours.delete_last_message("ada")
    left = reader.get_messages("ada")
    print(f"after delete_last_message: {len(left)} messages, the last one: {left[-1].role.value}")
    for chat_store in (ours, reader):
        asyncio.run(chat_store.aclose())


if __name__ == "__main__":
    main()
