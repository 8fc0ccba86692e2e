"""The Agents SDK session keeps input images and files by reference and gives them back whole."""

from __future__ import annotations

import base64
import struct

import pytest

from llm_sessions.exceptions import InvalidInputError
from llm_sessions.integrations.openai_agents import LLMSessionsSession
from llm_sessions.storage import InMemorySessionStore, blob_area

GIF = b"GIF89a" + struct.pack("<HH", 1024, 1024) + b"\0" * 300
GIF_URL = "data:image/gif;base64," + base64.b64encode(GIF).decode()


def _item(image_url: str) -> dict[str, object]:
    return {
        "role": "user",
        "content": [
            {"type": "input_text", "text": "what is it?"},
            {"type": "input_image", "image_url": image_url, "detail": "high"},
        ],
    }


async def test_an_input_image_is_stored_once_and_read_back_as_given() -> None:
    store = InMemorySessionStore()
    session = LLMSessionsSession("agents-pictures", store=store, model="gpt-4o")
    await session.add_items([_item(GIF_URL), _item(GIF_URL)])
    stored = await store.get("agents-pictures")
    assert stored is not None
    assert GIF_URL not in str(stored.events[0].message)  # a reference, not the bytes
    assert len(await blob_area(store).touched()) == 1
    usage = stored.events[0].token_usage
    assert usage is not None and usage.prompt_tokens >= 765  # 1024x1024 high on gpt-4o
    items = await session.get_items()
    assert items[0]["content"][1] == {"type": "input_image", "image_url": GIF_URL, "detail": "high"}
    assert items[0]["content"][0] == {"type": "input_text", "text": "what is it?"}
    assert await session.pop_item() == items[1]


async def test_a_bad_image_item_stores_nothing() -> None:
    store = InMemorySessionStore()
    session = LLMSessionsSession("agents-bad", store=store)
    with pytest.raises(InvalidInputError, match=r"attachment\.url"):
        await session.add_items([_item(GIF_URL), _item("ftp://example.com/x.gif")])
    assert await store.get("agents-bad") is None
    assert await blob_area(store).touched() == {}
