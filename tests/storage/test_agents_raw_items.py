"""The Agents SDK session reads its items from the stored JSON, not from typed events: what it
gives back is what a typed load of the same session holds, sealed rows opened, redacted text
as stored, removed items left out, and nothing another reader wrote missed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from erasure_data import forget_erasures

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
    assert first is not None and [m["content"][:9] for m in first.messages] == [
        "message 0",
        "message 1",
    ]
    await writer.pop_item()
    later = await read_messages(store, "resume", after=first.read_through)
    assert later is not None and later.messages == [] and later.ids == []
    assert later.removed == {first.ids[1]}


async def test_items_shaped_like_stored_fields_read_back_as_given(durable_case: StoreCase) -> None:
    store = durable_case.open()
    items: list[Any] = [
        {"role": "user", "content": 'quote ,"timestamp":" and {"id":"x","message":1}'},
        {"type": "note", "meta": {"id": "n1", "message": "m"}, "timestamp": "2026-01-01"},
        {"role": "assistant", "content": "after the odd one"},
    ]
    await LLMSessionsSession("shaped", store=store).add_items(items)
    read = await LLMSessionsSession("shaped", store=durable_case.open()).get_items()
    assert read == items == await _typed_messages(durable_case.open(), "shaped")


async def test_plain_and_sealed_rows_of_one_session_read_in_order(durable_case: StoreCase) -> None:
    key = generate_key()
    await LLMSessionsSession("mixed", store=durable_case.open()).add_items([_said(0), _said(1)])
    sealed = LLMSessionsSession("mixed", store=durable_case.open(encryption_key=key))
    await sealed.add_items([_said(2), _said(3)])
    await sealed.pop_item()
    reader_store = durable_case.open(encryption_key=key)
    log = await read_messages(reader_store, "mixed")
    assert log is not None and len(log.removed) == 1
    assert [m["content"][:9] for m in log.messages] == [f"message {n}" for n in range(3)]
    assert log.messages == await _typed_messages(reader_store, "mixed")
    assert log.ids == [event.id for event in (await reader_store.get("mixed")).events]  # type: ignore[union-attr]


async def test_a_held_reader_restores_an_image_added_after_its_first_read(
    durable_case: StoreCase,
) -> None:
    image = "data:image/gif;base64,R0lGODlhAQABAAAAACw="
    picture = {"role": "user", "content": [{"type": "input_image", "image_url": image}]}
    reader = LLMSessionsSession("pictures", store=durable_case.open())
    writer = LLMSessionsSession("pictures", store=durable_case.open())
    await writer.add_items([_said(0)])
    assert len(await reader.get_items()) == 1
    await writer.add_items([picture])
    stored = await _typed_messages(durable_case.open(), "pictures")
    assert image not in str(stored[1])  # kept by reference: the read must restore it
    items = await reader.get_items()
    assert items[1]["content"][0]["image_url"] == image
    cleaner = durable_case.open()
    await cleaner.erase(session_ids=["pictures"])  # its blob too: drop_all keeps blobs
    await forget_erasures(cleaner)
