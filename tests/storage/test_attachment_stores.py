"""Attachments and streamed replies on every store, read back through a fresh store object:
image tokens per model and detail, and bad input refused with the stored session unchanged."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from store_cases import ALL_KINDS, StoreCase, drop_case, url_for

from llm_sessions import Attachment, SessionManager
from llm_sessions.exceptions import InvalidInputError
from llm_sessions.storage import blob_area, open_store

# OpenAI's rules for a 1024x1024 image: gpt-4o 85 base + 170 per 512 px tile (4 tiles at high
# detail, after scaling the short side to 768), gpt-4o-mini 2833 base + 5667 per tile.
IMAGE_TOKENS = {
    ("gpt-4o", "low"): 85,
    ("gpt-4o", "high"): 85 + 4 * 170,
    ("gpt-4o-mini", "low"): 2833,
    ("gpt-4o-mini", "high"): 2833 + 4 * 5667,
}


def png(width: int, height: int, padding: int = 0) -> bytes:
    """A PNG signature and IHDR chunk (all the size reader needs), plus padding bytes."""
    ihdr = struct.pack(">II", width, height) + b"\x08\x02\x00\x00\x00"
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\0" * (4 + padding)


BAD_CHUNK = {"id": "c", "object": "chat.completion.chunk", "choices": [{"delta": {"content": 7}}]}


@pytest.fixture(params=ALL_KINDS)
async def case(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreCase]:
    case = StoreCase(request.param, url_for(request.param, tmp_path, request))
    yield case
    if case.kind == "redis":  # blob keys are not session keys: drop_all leaves them
        cleaner: Any = open_store(case.url)
        async for key in cleaner.client.scan_iter(match=f"{cleaner.key_prefix}blob:*"):
            await cleaner.client.delete(key)
        await cleaner.close()
    await drop_case(case)


async def test_image_tokens_follow_the_rules_per_model_and_detail(case: StoreCase) -> None:
    assert IMAGE_TOKENS[("gpt-4o", "high")] == 765
    store = case.open()
    image = png(1024, 1024)
    with_image: dict[tuple[str, str], str] = {}
    text_only: dict[str, str] = {}
    for model, detail in IMAGE_TOKENS:
        sm = SessionManager(store=store, model=model)
        await sm.user_says(["Hi", Attachment.from_bytes(image, "image/png", detail=detail)])
        with_image[(model, detail)] = sm.session_id
        plain = SessionManager(store=store, model=model)
        await plain.user_says("Hi")
        text_only[model] = plain.session_id

    reader = case.reader(store)
    for (model, detail), session_id in with_image.items():
        session, plain_session = await reader.get(session_id), await reader.get(text_only[model])
        assert session is not None and plain_session is not None
        usage, text = session.events[-1].token_usage, plain_session.events[-1].token_usage
        assert usage is not None and text is not None
        assert usage.prompt_tokens - text.prompt_tokens == IMAGE_TOKENS[(model, detail)]
        assert usage.estimated_cost_usd is not None
        assert usage.estimated_cost_usd > (text.estimated_cost_usd or 0)
    assert len(await blob_area(reader).touched()) == 1  # four sessions, one blob


async def _write_non_text(sm: SessionManager) -> None:
    async with sm.ai_stream(model="gpt-4o") as reply:
        await reply.write(42)  # type: ignore[arg-type]


BAD_INPUT: list[tuple[str, str, Callable[[SessionManager], Awaitable[Any]]]] = [
    (
        "attachment.size",
        "at most 1000 bytes",
        lambda sm: sm.user_says(["big", Attachment.from_bytes(png(8, 8, 2000), "image/png")]),
    ),
    (
        "attachment.media_type",
        "one of",
        lambda sm: sm.user_says(["x", Attachment.from_bytes(b"MZ", "application/x-msdownload")]),
    ),
    (
        "attachment.url",
        "http",
        lambda sm: sm.user_says(["x", Attachment.from_url("ftp://example.com/a.png")]),
    ),
    (
        "attachment.data",
        "image/png",
        lambda sm: sm.user_says(["x", Attachment.from_bytes(b"not a png", "image/png")]),
    ),
    (
        "stream[0].choices[0].delta.content",
        "must be text",
        lambda sm: sm.ai_responds_stream([BAD_CHUNK], model="gpt-4o"),
    ),
    ("delta", "must be text", _write_non_text),
]


@pytest.mark.parametrize(
    ("field", "reason", "act"), BAD_INPUT, ids=[field for field, _, _ in BAD_INPUT]
)
async def test_bad_input_is_refused_and_the_stored_session_stays_as_it_was(
    case: StoreCase,
    field: str,
    reason: str,
    act: Callable[[SessionManager], Awaitable[Any]],
) -> None:
    store = case.open()
    blob_area(store, max_bytes=1000)
    sm = SessionManager(store=store, model="gpt-4o")
    await sm.user_says("before")

    with pytest.raises(InvalidInputError) as caught:
        await act(sm)

    assert caught.value.field == field
    assert reason in caught.value.reason
    reader = case.reader(store)
    stored = await reader.get(sm.session_id)
    assert stored is not None
    assert [event.message for event in stored.events] == ["before"]
    assert await blob_area(reader).touched() == {}
