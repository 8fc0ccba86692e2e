"""Attachments leave and enter stores with their blobs: export, import, copy."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from attachment_images import png

from llm_sessions import Attachment, SessionManager
from llm_sessions.exceptions import InvalidFileError
from llm_sessions.interop.copy import copy_sessions
from llm_sessions.interop.transfer import export_session, import_session
from llm_sessions.storage import InMemorySessionStore, SQLiteSessionStore, blob_area

IMAGE = png(40, 30, padding=100)


async def _session_with_image(store: InMemorySessionStore | SQLiteSessionStore) -> str:
    sm = SessionManager(store=store, model="gpt-4o")
    await sm.user_says(["see", Attachment.from_bytes(IMAGE, "image/png", detail="low")])
    await sm.ai_responds("a square", model="gpt-4o")
    return sm.session_id


async def test_jsonl_carries_the_blobs_into_another_store(tmp_path: Path) -> None:
    source = InMemorySessionStore()
    session_id = await _session_with_image(source)
    text = await export_session(source, session_id, "jsonl")
    records = [json.loads(line) for line in text.splitlines()]
    assert [record["record"] for record in records] == ["session", "event", "event", "blob"]
    target = SQLiteSessionStore(tmp_path / "t.db")
    try:
        assert await import_session(target, text) == [session_id]
        messages = await SessionManager(store=target, session_id=session_id).get_messages_for_llm()
        assert messages[0]["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")
    finally:
        await target.close()


async def test_an_import_without_a_named_blob_stores_nothing() -> None:
    source = InMemorySessionStore()
    session_id = await _session_with_image(source)
    text = await export_session(source, session_id, "jsonl")
    cut = "".join(line + "\n" for line in text.splitlines() if '"record":"blob"' not in line)
    target = InMemorySessionStore()
    with pytest.raises(InvalidFileError, match="does not hold"):
        await import_session(target, cut)
    assert await target.list_sessions() == []
    lines = text.splitlines()
    blob = json.loads(lines[-1])
    blob["data"] = base64.b64encode(b"other bytes").decode()
    tampered = "\n".join([*lines[:-1], json.dumps(blob)]) + "\n"
    with pytest.raises(InvalidFileError, match="SHA-256"):
        await import_session(target, tampered)


async def test_responses_export_has_input_image_parts() -> None:
    source = InMemorySessionStore()
    session_id = await _session_with_image(source)
    items = json.loads(await export_session(source, session_id, "openai-responses"))
    parts = items[0]["content"]
    assert parts[0] == {"type": "input_text", "text": "see"}
    assert parts[1]["type"] == "input_image" and parts[1]["detail"] == "low"
    assert parts[1]["image_url"].startswith("data:image/png;base64,")


async def test_copy_moves_the_blobs(tmp_path: Path) -> None:
    source = InMemorySessionStore()
    await _session_with_image(source)
    target = SQLiteSessionStore(tmp_path / "copy.db")
    try:
        report = await copy_sessions(source, target)
        assert report.copied == 1
        assert set(await blob_area(target).touched()) == set(await blob_area(source).touched())
    finally:
        await target.close()


def _chat_with_image(url: str) -> str:
    image = {"type": "image_url", "image_url": {"url": url, "detail": "low"}}
    return json.dumps(
        [
            {"role": "user", "content": [{"type": "text", "text": "What is this?"}, image]},
            {"role": "assistant", "content": "A square."},
        ]
    )


async def test_an_openai_import_keeps_a_data_url_image_by_reference() -> None:
    url = "data:image/png;base64," + base64.b64encode(IMAGE).decode()
    store = InMemorySessionStore()
    [session_id] = await import_session(store, _chat_with_image(url), "openai")

    session = await store.get(session_id)
    assert session is not None
    stored = session.events[0].message
    assert url not in json.dumps(stored)  # the event holds a reference, not the base64
    assert (
        stored["content"][1]["ref"] == f"sha256:{Attachment.from_bytes(IMAGE, 'image/png').sha256}"
    )
    assert await blob_area(store).get(stored["content"][1]["ref"]) == IMAGE
    text_only = await import_session(
        store, json.dumps([{"role": "user", "content": "What is this?"}]), "openai"
    )
    plain = await store.get(text_only[0])
    assert plain is not None
    usage, text = session.events[0].token_usage, plain.events[0].token_usage
    assert usage is not None and text is not None
    assert usage.prompt_tokens == text.prompt_tokens + 2833  # gpt-4o-mini, low detail
    messages = await SessionManager(store=store, session_id=session_id).get_messages_for_llm()
    assert messages[0]["content"][1] == {
        "type": "image_url",
        "image_url": {"url": url, "detail": "low"},
    }
    exported = json.loads(await export_session(store, session_id, "openai"))
    assert exported[0]["content"][1]["image_url"]["url"] == url


async def test_an_openai_import_with_a_corrupt_data_url_image_stores_nothing() -> None:
    url = "data:image/png;base64," + base64.b64encode(b"not a png").decode()
    store = InMemorySessionStore()
    with pytest.raises(InvalidFileError, match=r"line 1.*content\[1\]\.image_url.*image/png"):
        await import_session(store, _chat_with_image(url), "openai")
    assert await store.list_sessions() == []
    assert await blob_area(store).touched() == {}
