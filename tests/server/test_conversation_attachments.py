"""The Conversations API accepts input_image and input_file parts and keeps them as blobs."""

from __future__ import annotations

import base64
import struct

import httpx
from openai.types.conversations import ConversationItemList

from llm_sessions import SessionManager
from llm_sessions.storage import InMemorySessionStore, blob_area

GIF = b"GIF89a" + struct.pack("<HH", 32, 16) + b"\0" * 200
GIF_URL = "data:image/gif;base64," + base64.b64encode(GIF).decode()
PDF_URL = "data:application/pdf;base64," + base64.b64encode(b"%PDF-1.7 hi").decode()


async def test_image_and_file_items_are_stored_once_and_read_back(
    client: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    content = [
        {"type": "input_text", "text": "what is this?"},
        {"type": "input_image", "image_url": GIF_URL, "detail": "low"},
        {"type": "input_file", "file_data": PDF_URL, "filename": "note.pdf"},
        {"type": "input_image", "image_url": "https://example.com/a.png"},
    ]
    item = {"type": "message", "role": "user", "content": content}
    created = await client.post("/v1/conversations", json={"items": [item, item]})
    assert created.status_code == 200, created.text
    conversation = created.json()["id"]
    assert len(await blob_area(memory_store).touched()) == 2  # the image and the file, once
    listed = await client.get(f"/v1/conversations/{conversation}/items", params={"order": "asc"})
    page = ConversationItemList.model_validate(listed.json())
    parts = page.data[0].model_dump()["content"]  # type: ignore[union-attr]
    assert parts[1]["type"] == "input_image" and parts[1]["file_id"].startswith("sha256:")
    assert parts[2]["filename"] == "note.pdf" and parts[2]["file_id"].startswith("sha256:")
    assert parts[3]["image_url"] == "https://example.com/a.png"
    sm = SessionManager(store=memory_store, session_id=conversation)
    prompt = (await sm.get_messages_for_llm())[0]["content"]
    assert prompt[0] == {"type": "text", "text": "what is this?"}
    assert prompt[1]["image_url"] == {"url": GIF_URL, "detail": "low"}
    assert prompt[2]["file"] == {"filename": "note.pdf", "file_data": PDF_URL}


async def test_a_bad_attachment_is_refused_and_stores_nothing(
    client: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    created = await client.post("/v1/conversations", json={})
    conversation = created.json()["id"]
    for part, field in (
        ({"type": "input_image", "image_url": "ftp://example.com/a.png"}, "attachment.url"),
        ({"type": "input_image", "image_url": "data:image/png;base64,AAAA"}, "attachment.data"),
        ({"type": "input_file", "file_data": "data:application/x-exe;base64,AA=="}, "media_type"),
    ):
        item = {"type": "message", "role": "user", "content": [part]}
        answer = await client.post(
            f"/v1/conversations/{conversation}/items", json={"items": [item]}
        )
        assert answer.status_code == 422, answer.text  # the server's invalid_value status
        assert field in answer.text
    session = await memory_store.get(conversation)
    assert session is not None and session.events == []
    assert await blob_area(memory_store).touched() == {}
