"""Item pages written from the stored rows (``item_rows``): byte for byte the models' page, and
None for any row that is not a plain text message."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from llm_sessions.models import EventSource, SessionEvent
from llm_sessions.server import conversations, create_app
from llm_sessions.server.conversation_items import event_from_item, item_of
from llm_sessions.server.conversation_schema import ItemList, ItemsCreate
from llm_sessions.server.item_rows import page_json
from llm_sessions.storage import open_store
from llm_sessions.storage._sync import event_json

PLAIN = [
    {"type": "message", "role": "user", "content": "hello"},
    {"type": "message", "role": "assistant", "content": "done", "phase": "final_answer"},
    {"type": "message", "role": "system", "content": 'émoji 🎉 \u2028 tab\t nl\n \x01 \x7f "q" \\'},
    {
        "type": "message",
        "role": "developer",
        "content": [{"type": "input_text", "text": "a"}, {"type": "input_text", "text": "b"}],
    },
]
NOT_PLAIN = [
    {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
    {"type": "function_call_output", "call_id": "c1", "output": "ok"},
]


def _events(items: list[dict[str, Any]]) -> list[SessionEvent[Any]]:
    return [event_from_item(item) for item in ItemsCreate.model_validate({"items": items}).items]


def _models_json(events: list[SessionEvent[Any]], limit: int) -> bytes:
    items = [item_of(event) for event in events[:limit]]
    page = ItemList(
        data=items,
        first_id=items[0].id if items else None,
        last_id=items[-1].id if items else None,
        has_more=len(events) > limit,
    )
    return page.__pydantic_serializer__.to_json(page)


@pytest.mark.parametrize("limit", [1, 3, 4, 20])
def test_plain_rows_give_the_models_page_byte_for_byte(limit: int) -> None:
    events = _events(PLAIN)
    rows = [event_json(event) for event in events]
    assert page_json(rows, limit) == _models_json(events, limit)
    assert page_json([row.encode() for row in rows], limit) == _models_json(events, limit)


def test_an_empty_page() -> None:
    assert page_json([], 20) == _models_json([], 20)


@pytest.mark.parametrize("item", NOT_PLAIN)
def test_a_row_that_is_not_a_plain_message_gives_none(item: dict[str, Any]) -> None:
    rows = [event_json(event) for event in _events([PLAIN[0], item])]
    assert page_json(rows, 20) is None


def test_library_events_and_annotations_and_unreadable_rows_give_none() -> None:
    text_event = SessionEvent(message="plain text", source=EventSource.USER)
    assert page_json([event_json(text_event)], 20) is None
    annotated = _events([PLAIN[1]])[0]
    annotated.message["content"][0]["annotations"] = [{"type": "url_citation"}]
    assert page_json([event_json(annotated)], 20) is None
    assert page_json(["not json"], 20) is None
    assert page_json(['{"id": 1, "message": {}}'], 20) is None
    odd = '{"id": "e1", "message": {"type": "message", "role": [], "content": []}}'
    assert page_json([odd], 20) is None
    assert page_json([odd.replace('"role": []', '"role": "user", "status": {}')], 20) is None


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    store = open_store(f"sqlite:///{tmp_path / 'rows.db'}")
    yield create_app(store)
    await store.close()


async def test_a_page_read_from_rows_is_the_page_read_from_models(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        conversation = (await client.post("/v1/conversations", json={})).json()["id"]
        path = f"/v1/conversations/{conversation}/items"
        (await client.post(path, json={"items": PLAIN})).raise_for_status()
        first = (await client.get(path, params={"limit": 2})).json()
        await client.delete(f"{path}/{first['data'][1]['id']}")
        queries = [{"limit": 2, "order": "asc"}, {"limit": 2, "after": first["first_id"]}, {}]
        written: list[bytes | None] = []

        def counted(rows: Any, limit: int) -> bytes | None:
            written.append(page_json(rows, limit))
            return written[-1]

        monkeypatch.setattr(conversations, "page_json", counted)
        from_rows = [(await client.get(path, params=q)).content for q in queries]
        monkeypatch.setattr(conversations, "page_json", lambda rows, limit: None)
        from_models = [(await client.get(path, params=q)).content for q in queries]
    assert from_rows == from_models
    assert len(written) == 3 and None not in written
    assert b'"has_more":true' in from_rows[0]
    assert first["data"][1]["id"].encode() not in b"".join(from_rows)
