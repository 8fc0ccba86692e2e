"""The LlamaIndex chat store on SQLite, Redis and PostgreSQL, side by side with LlamaIndex's own
``SimpleChatStore``: the same operations give the same results, a ``ChatMemoryBuffer`` over our
store holds what it holds over theirs, and bad input stores nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest
from llama_index.core.llms import ChatMessage, MessageRole
from llama_index.core.memory import ChatMemoryBuffer, Memory
from llama_index.core.storage.chat_store import BaseChatStore, SimpleChatStore
from llama_index.core.storage.chat_store.base_db import AsyncDBChatStore, MessageStatus
from llama_index.core.storage.chat_store.sql import SQLAlchemyChatStore
from sqlalchemy.ext.asyncio import create_async_engine

from llm_sessions.exceptions import InvalidInputError, InvalidSessionId
from llm_sessions.integrations.llama_index import MESSAGE_ROLE_KEY, LLMSessionsChatStore
from llm_sessions.integrations.llama_index_memory import MESSAGE_STATUS_KEY, LLMSessionsMemoryStore
from llm_sessions.models import EventSource, EventType

if TYPE_CHECKING:
    from store_cases import StoreCase

SCRIPT = [
    ChatMessage(role=MessageRole.SYSTEM, content="Answer briefly."),
    ChatMessage(role=MessageRole.USER, content="Weather in Paris?"),
    ChatMessage(
        role=MessageRole.ASSISTANT,
        content="",
        additional_kwargs={"tool_calls": [{"id": "c1", "name": "weather", "args": "Paris"}]},
    ),
    ChatMessage(role=MessageRole.TOOL, content="21C", additional_kwargs={"tool_call_id": "c1"}),
    ChatMessage(role=MessageRole.ASSISTANT, content="It is 21C in Paris."),
    ChatMessage(role=MessageRole.USER, content="And in Rome, tomorrow and the day after?"),
    ChatMessage(role=MessageRole.ASSISTANT, content="25C, then 24C."),
]


def _words(text: str) -> list[str]:
    return text.split()  # LlamaIndex's default tokenizer would fetch tiktoken's files


async def _operations(store: BaseChatStore) -> list[Any]:
    """The same calls on any chat store, sync and async, and what each returned."""
    seen: list[Any] = []
    store.set_messages("alice", SCRIPT[:3])
    await store.async_add_message("alice", SCRIPT[3])
    store.add_message("bob", SCRIPT[1])
    seen.append(list(store.get_messages("alice")))  # SimpleChatStore returns its own list
    seen.append(await store.adelete_message("alice", 1))
    seen.append(store.delete_message("alice", -1))
    seen.append(store.delete_message("alice", 7))
    seen.append(store.delete_last_message("alice"))
    seen.append(list(await store.aget_messages("alice")))
    await store.aset_messages("alice", SCRIPT[4:])
    seen.append(await store.adelete_last_message("alice"))
    seen.append(sorted(await store.aget_keys()))
    seen.append(store.delete_messages("bob"))
    seen.append(await store.adelete_messages("nobody"))
    seen.append(store.delete_message("nobody", 0))
    seen.append(store.get_keys())
    seen.append(store.get_messages("alice"))
    return seen


async def test_the_same_operations_give_the_same_results(framework_case: StoreCase) -> None:
    ours = LLMSessionsChatStore(store=framework_case.url, key_prefix="li-")
    assert await _operations(ours) == await _operations(SimpleChatStore())
    reader = LLMSessionsChatStore(store=framework_case.open(), key_prefix="li-")
    assert await reader.aget_messages("alice") == SCRIPT[4:6]
    await ours.aclose()


async def test_a_chat_memory_buffer_holds_the_same_as_over_simple_chat_store(
    framework_case: StoreCase,
) -> None:
    ours = LLMSessionsChatStore(store=framework_case.url)
    buffers = [
        ChatMemoryBuffer.from_defaults(
            chat_store=chat_store, chat_store_key="u1", token_limit=12, tokenizer_fn=_words
        )
        for chat_store in (ours, SimpleChatStore())
    ]
    for buffer in buffers:
        for message in SCRIPT[:4]:
            buffer.put(message)
        for message in SCRIPT[4:]:
            await buffer.aput(message)
    assert buffers[0].get_all() == buffers[1].get_all() == SCRIPT
    assert buffers[0].get() == buffers[1].get()
    assert await buffers[0].aget(input="Thanks!") == await buffers[1].aget(input="Thanks!")
    assert len(buffers[0].get()) < len(SCRIPT)  # the token limit did cut the history

    stored = await framework_case.open().get("u1")
    assert stored is not None
    kinds = [(e.source, e.type, e.metadata[MESSAGE_ROLE_KEY]) for e in stored.events[:4]]
    assert kinds == [
        (EventSource.SYSTEM, EventType.MESSAGE, "system"),
        (EventSource.USER, EventType.MESSAGE, "user"),
        (EventSource.LLM, EventType.TOOL_CALL, "assistant"),
        (EventSource.SYSTEM, EventType.TOOL_CALL, "tool"),
    ]
    assert stored.total_tokens > 0

    for buffer in buffers:
        buffer.reset()
    assert buffers[0].get_all() == buffers[1].get_all() == []
    await ours.aclose()


@pytest.fixture
async def their_db_store() -> AsyncIterator[SQLAlchemyChatStore]:
    """LlamaIndex's own ``AsyncDBChatStore`` (Memory's default) on an in-memory SQLite."""
    engine = create_async_engine("sqlite+aiosqlite:///:memory:")
    yield SQLAlchemyChatStore(table_name="memory", async_engine=engine)
    await engine.dispose()


async def _db_operations(store: AsyncDBChatStore) -> list[Any]:
    """The same calls on any ``AsyncDBChatStore``, and what each returned."""
    archived = MessageStatus.ARCHIVED
    await store.set_messages("alice", SCRIPT[:2])
    await store.add_messages("alice", SCRIPT[2:5])
    await store.add_message("alice", SCRIPT[5], status=archived)
    await store.add_message("bob", SCRIPT[1])
    seen: list[Any] = [await store.archive_oldest_messages("alice", 2)]
    for status in (None, MessageStatus.ACTIVE, archived):
        seen.append(await store.get_messages("alice", status=status))
        seen.append(await store.count_messages("alice", status=status))
    seen.append(await store.get_messages("alice", status=None, limit=2, offset=1))
    seen.append(await store.delete_oldest_messages("alice", 2))
    await store.delete_messages("alice", status=archived)
    seen.append(await store.get_messages("alice", status=None))
    seen.append(sorted(await store.get_keys()))
    await store.delete_messages("bob")
    seen.append(await store.get_keys())
    return seen


async def test_the_memory_store_answers_as_llama_index_sql_store(
    framework_case: StoreCase, their_db_store: SQLAlchemyChatStore
) -> None:
    ours = LLMSessionsMemoryStore(store=framework_case.url)
    assert await _db_operations(ours) == await _db_operations(their_db_store)
    await ours.aclose()


async def test_memory_over_our_store_holds_what_it_holds_over_theirs(
    framework_case: StoreCase, their_db_store: SQLAlchemyChatStore
) -> None:
    ours = LLMSessionsMemoryStore(store=framework_case.url, key_prefix="mem-")
    memories = [
        Memory.from_defaults(
            session_id="m1",
            chat_store=chat_store,
            token_limit=20,
            token_flush_size=5,
            tokenizer_fn=_words,
        )
        for chat_store in (ours, their_db_store)
    ]
    for memory in memories:
        for message in SCRIPT:
            await memory.aput(message)
    assert await memories[0].aget() == await memories[1].aget()
    for status in (None, MessageStatus.ACTIVE, MessageStatus.ARCHIVED):
        assert await memories[0].aget_all(status) == await memories[1].aget_all(status)
    assert await memories[0].aget_all(MessageStatus.ARCHIVED)  # the limit did archive some

    stored = await framework_case.open().get("mem-m1")
    assert stored is not None
    statuses = [event.metadata[MESSAGE_STATUS_KEY] for event in stored.events]
    assert statuses[0] == "archived" and statuses[-1] == "active"
    for memory in memories:
        await memory.areset()
    assert await memories[0].aget_all() == await memories[1].aget_all() == []
    await ours.aclose()


class Opaque:
    """A value pydantic cannot turn into JSON."""


@pytest.mark.parametrize(
    "bad",
    [
        ChatMessage(role=MessageRole.USER, content="x", additional_kwargs={"when": {1, 2}}),
        ChatMessage(role=MessageRole.USER, content="x", additional_kwargs={"what": Opaque()}),
        {"role": "user", "content": "not a ChatMessage"},
    ],
    ids=["not-read-back-equal", "not-json", "not-a-message"],
)
async def test_a_message_we_cannot_store_is_refused_and_nothing_is_stored(
    framework_case: StoreCase, bad: Any
) -> None:
    chat_store = LLMSessionsChatStore(store=framework_case.open())
    await chat_store.aset_messages("u2", SCRIPT[:2])
    with pytest.raises(InvalidInputError, match=r"messages\[1\]"):
        await chat_store.aset_messages("u2", [SCRIPT[0], bad])
    with pytest.raises(InvalidInputError, match=r"messages\[0\]"):
        await chat_store.async_add_message("u2", bad)
    assert await chat_store.aget_messages("u2") == SCRIPT[:2]


async def test_bad_keys_and_indexes_are_refused() -> None:
    chat_store = LLMSessionsChatStore(store="memory://")
    with pytest.raises(InvalidSessionId, match=r"key='\.\./x'"):
        await chat_store.aget_messages("../x")
    with pytest.raises(InvalidInputError, match="idx"):
        await chat_store.adelete_message("u3", "1")  # type: ignore[arg-type]
    with pytest.raises(InvalidSessionId, match="key_prefix"):
        LLMSessionsChatStore(store="memory://", key_prefix="a/")
    await chat_store.aclose()


async def test_the_memory_store_refuses_bad_input_and_stores_nothing(
    framework_case: StoreCase,
) -> None:
    chat_store = LLMSessionsMemoryStore(store=framework_case.open())
    with pytest.raises(InvalidInputError, match=r"messages\[1\]"):
        await chat_store.add_messages("u4", [SCRIPT[0], Opaque()])  # type: ignore[list-item]
    assert await chat_store.get_messages("u4", status=None) == []
    assert await chat_store.get_keys() == []
    for call, field in [
        (chat_store.archive_oldest_messages("u4", -1), "n"),
        (chat_store.delete_oldest_messages("u4", True), "n"),  # type: ignore[arg-type]
        (chat_store.get_messages("u4", offset=-2), "offset"),
        (chat_store.delete_message("u4", 1.0), "idx"),  # type: ignore[arg-type]
    ]:
        with pytest.raises(InvalidInputError, match=field):
            await call
