"""The Agents SDK session reads its items from the stored JSON, not from typed events: what it
gives back is what a typed load of the same session holds, sealed rows opened, redacted text
as stored, removed items left out, and nothing another reader wrote missed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llm_sessions.integrations.openai_agents import LLMSessionsSession
from llm_sessions.storage import read_messages, redact_pii
from llm_sessions.storage._encryption import generate_key

if TYPE_CHECKING:
    from store_cases import StoreCase


def _said(n: int) -> dict[str, Any]:
    return {"role": "user", "content": f"message {n}, mail me at rex{n}@example.com"}


async def _typed_messages(store: Any, session_id: str) -> list[Any]:
    session = await store.get(session_id)
    assert session is not None
    return [event.message for event in session.events]


async def test_items_read_raw_are_the_messages_a_typed_load_holds(
    durable_case: StoreCase,
) -> None:
    key = generate_key()
    store = durable_case.open(encryption_key=key, redact=redact_pii)
    writer = LLMSessionsSession("raw", store=store)
    await writer.add_items([_said(n) for n in range(6)])
    await writer.pop_item()
    await writer.add_items([_said(6)])
    reader_store = durable_case.open(encryption_key=key)
    items = await LLMSessionsSession("raw", store=reader_store).get_items()
    assert items == await _typed_messages(reader_store, "raw")
    assert [item["content"].split(",")[0] for item in items] == [
        f"message {n}" for n in (0, 1, 2, 3, 4, 6)
    ]
    assert all("@example.com" not in item["content"] for item in items)


async def test_a_held_reader_sees_removals_and_appends_by_others(durable_case: StoreCase) -> None:
    store = durable_case.open()
    reader = LLMSessionsSession("shared", store=store)
    assert await reader.get_items() == []
    writer = LLMSessionsSession("shared", store=durable_case.open())
    await writer.add_items([_said(n) for n in range(3)])
    assert len(await reader.get_items()) == 3
    await writer.pop_item()
    await writer.add_items([_said(3)])
    assert await reader.get_items() == await _typed_messages(store, "shared")
    await writer.clear_session()
    assert await reader.get_items() == []


async def test_read_messages_resumes_where_it_ended(durable_case: StoreCase) -> None:
    store = durable_case.open()
    assert await read_messages(store, "absent") is None
    writer = LLMSessionsSession("resume", store=store)
    await writer.add_items([_said(0), _said(1)])
    first = await read_messages(store, "resume")
    assert first is not None and [m["content"][:9] for _, m in first.messages] == [
        "message 0",
        "message 1",
    ]
    await writer.pop_item()
    later = await read_messages(store, "resume", after=first.read_through)
    assert later is not None and later.messages == []
    assert later.removed == {first.messages[1][0]}
