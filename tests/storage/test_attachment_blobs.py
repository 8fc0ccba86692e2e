"""Blobs on every store: stored once, read back, never collected while an event names them."""

from __future__ import annotations

import asyncio
import sqlite3
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from store_cases import url_for

from llm_sessions import Attachment, SessionManager
from llm_sessions.exceptions import EncryptionKeyError
from llm_sessions.storage import SessionStore, blob_area, collect_blobs, open_store
from llm_sessions.storage.encryption import generate_key

NOW = 1_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "file", "sqlite", "redis", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SessionStore]:
    opened = open_store(url_for(request.param, tmp_path, request))
    yield opened
    if request.param == "redis":  # blob keys are not session keys: drop_all leaves them
        client = opened.client  # type: ignore[attr-defined]
        async for key in client.scan_iter(match=f"{opened.key_prefix}blob:*"):  # type: ignore[attr-defined]
            await client.delete(key)
    if request.param in ("redis", "postgres"):
        await opened.drop_all()  # type: ignore[attr-defined]
    await opened.close()


def _image(side: int = 256) -> Attachment:
    gif = b"GIF89a" + struct.pack("<HH", side, side) + b"\0" * 4000  # a header is enough
    return Attachment.from_bytes(gif, "image/gif", detail="low")


async def test_an_image_is_stored_once_across_two_sessions(store: SessionStore) -> None:
    first = SessionManager(store=store, model="gpt-4o")
    second = SessionManager(store=store, model="gpt-4o-mini")
    await first.user_says(["one", _image()])
    await second.user_says(["two", _image()])
    await second.user_says(["again", _image()])
    assert list(await blob_area(store).touched()) == [f"sha256:{_image().sha256}"]
    for manager, image_tokens in ((first, 85), (second, 2833)):  # low detail, per model
        session = await store.get(manager.session_id)
        assert session is not None
        usage = session.events[-1].token_usage
        assert usage is not None and usage.prompt_tokens > image_tokens
        assert usage.prompt_tokens - image_tokens < 5  # the rest is the text
    reader = SessionManager(store=store, session_id=second.session_id)
    content = (await reader.get_messages_for_llm())[-1]["content"]
    assert content[1]["image_url"]["url"].startswith("data:image/gif;base64,R0lGOD")


async def test_collection_removes_only_blobs_no_event_names(store: SessionStore) -> None:
    clock = Clock()
    area = blob_area(store, clock=clock)
    kept = SessionManager(store=store)
    await kept.user_says(["kept", _image(300)])
    dropped = SessionManager(store=store)
    await dropped.user_says(["dropped", _image(400)])
    await store.delete(dropped.session_id)
    clock.now += 7200
    assert await collect_blobs(store, grace_seconds=3600) == 1
    assert set(await area.touched()) == {f"sha256:{_image(300).sha256}"}
    assert await SessionManager(store=store, session_id=kept.session_id).get_messages_for_llm()


async def test_collection_never_removes_a_blob_a_concurrent_append_names(
    store: SessionStore,
) -> None:
    clock = Clock()
    area = blob_area(store, clock=clock)
    # An old blob that nothing names any more: collectable, until an append names it again.
    gone = SessionManager(store=store)
    await gone.user_says(["old", _image(500)])
    await store.delete(gone.session_id)
    clock.now += 7200
    writers = [SessionManager(store=store) for _ in range(4)]

    async def append(manager: SessionManager) -> None:
        await manager.user_says(["again", _image(500)])

    results = await asyncio.gather(
        *(append(manager) for manager in writers), collect_blobs(store, grace_seconds=3600)
    )
    assert results[-1] in (0, 1)
    await collect_blobs(store, grace_seconds=3600)
    for manager in writers:
        reader = SessionManager(store=store, session_id=manager.session_id)
        messages = await reader.get_messages_for_llm()
        assert messages[-1]["content"][1]["image_url"]["url"].startswith("data:image/gif")
    assert f"sha256:{_image(500).sha256}" in await area.touched()


async def test_collection_between_a_blob_write_and_its_event_keeps_the_blob(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    area = blob_area(store, clock=clock)
    gone = SessionManager(store=store)
    await gone.user_says(["old", _image(600)])
    await store.delete(gone.session_id)
    clock.now += 7200
    write = area.put
    removed: list[int] = []

    async def write_then_collect(data: bytes) -> str:
        ref = await write(data)  # the blob is there, the event naming it is not yet
        removed.append(await collect_blobs(store, grace_seconds=3600))
        return ref

    monkeypatch.setattr(area, "put", write_then_collect)
    writer = SessionManager(store=store)
    await writer.user_says(["again", _image(600)])
    assert removed == [0]
    assert f"sha256:{_image(600).sha256}" in await area.touched()


async def test_a_blob_written_again_while_collection_runs_is_kept(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    area = blob_area(store, clock=clock)
    gone = SessionManager(store=store)
    await gone.user_says(["old", _image(700)])
    await store.delete(gone.session_id)
    clock.now += 7200
    delete = area.delete_if_untouched

    async def written_again_first(ref: str, cutoff: float) -> bool:
        # The collection saw the blob as old and unnamed; a writer stores it again now.
        await area.put(_image(700).data or b"")
        return await delete(ref, cutoff)

    monkeypatch.setattr(area, "delete_if_untouched", written_again_first)
    assert await collect_blobs(store, grace_seconds=3600) == 0
    assert f"sha256:{_image(700).sha256}" in await area.touched()


async def test_blobs_are_sealed_at_rest_with_the_store_key(tmp_path: Path) -> None:
    key = generate_key()
    sealed = open_store(f"sqlite:///{tmp_path / 'sealed.db'}", encryption_key=key)
    try:
        sm = SessionManager(store=sealed)
        await sm.user_says(["secret", _image(900)])
        with sqlite3.connect(tmp_path / "sealed.db") as raw:
            (stored,) = raw.execute("SELECT data FROM blobs").fetchone()
        assert b"GIF89a" not in stored
        messages = await sm.get_messages_for_llm()
        assert messages[-1]["content"][1]["image_url"]["url"].startswith("data:image/gif;base64,")
    finally:
        await sealed.close()
    keyless = open_store(f"sqlite:///{tmp_path / 'sealed.db'}", encryption_key=generate_key())
    try:
        with pytest.raises(EncryptionKeyError):
            await blob_area(keyless).get(f"sha256:{_image(900).sha256}")
    finally:
        await keyless.close()
