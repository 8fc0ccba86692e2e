"""What resuming a session with many images moves: references against inline base64.

A session of ``--turns`` turns (a user message and a reply each), ``--images`` of whose user
messages carry a distinct image of ``--image-kb`` KB, is written twice to each store: once with
``Attachment`` (the bytes go to the store's blob area, the events hold references) and once
with the images inline as base64 data URLs in the events, as a chat app that stores the
request's content does. A fresh store object then resumes each session (``store.get``), and
the table shows the bytes of the events loaded (their JSON), the time that took, and the time
of the first prompt that needs the images (``get_messages_for_llm``, which reads the blobs).

    python benchmarks/bench_attachments.py --stores file,sqlite --turns 200 --images 75

Target: a resumed session with references moves at most 1% of the inline session's bytes.
Not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import struct
import tempfile
import time
from typing import Any

from _common import machine, table

from llm_sessions import Attachment, SessionManager
from llm_sessions.models import EventSource, Session, SessionEvent
from llm_sessions.storage import SessionStore, open_store

POSTGRES_URL = os.environ.get(
    "LLM_SESSIONS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("LLM_SESSIONS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def image(index: int, kilobytes: int) -> bytes:
    """A PNG header and ``kilobytes`` KB of bytes that differ per image (so none is shared)."""
    header = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR"
    header += struct.pack(">II", 1024, 768) + b"\x08\x02\x00\x00\x00\0\0\0\0"
    return header + os.urandom(kilobytes * 1024 - len(header) - 4) + index.to_bytes(4, "big")


def image_turns(turns: int, images: int) -> set[int]:
    """The turns whose user message carries an image, spread over the session."""
    return {round(i * turns / images) for i in range(images)}


async def write_references(store: SessionStore, args: argparse.Namespace) -> str:
    sm = SessionManager(store=store, model="gpt-4o")
    with_image = image_turns(args.turns, args.images)
    for turn in range(args.turns):
        if turn in with_image:
            data = image(turn, args.image_kb)
            await sm.user_says([f"turn {turn}", Attachment.from_bytes(data, "image/png")])
        else:
            await sm.user_says(f"turn {turn}")
        await sm.ai_responds(f"reply {turn}", model="gpt-4o")
    return sm.session_id


async def write_inline(store: SessionStore, args: argparse.Namespace) -> str:
    # Events built directly: counting tokens of 75 inline data URLs is not what is measured.
    session = await Session.create(store=store)
    with_image = image_turns(args.turns, args.images)
    for turn in range(args.turns):
        message: Any = f"turn {turn}"
        if turn in with_image:
            url = "data:image/png;base64," + base64.b64encode(image(turn, args.image_kb)).decode()
            text = {"type": "text", "text": message}
            message = {"content": [text, {"type": "image_url", "image_url": {"url": url}}]}
        await session.add_event_and_save(SessionEvent(message=message, source=EventSource.USER))
        await session.add_event_and_save(SessionEvent(message=f"reply {turn}"))
    return session.id


async def resume(url: str, session_id: str) -> tuple[int, float, float]:
    """(bytes of events loaded, ms to load, ms of the first prompt) with a fresh store."""
    store = open_store(url)
    try:
        start = time.perf_counter()
        session = await store.get(session_id)
        loaded = time.perf_counter() - start
        assert session is not None
        moved = sum(len(event.model_dump_json()) for event in session.events)
        start = time.perf_counter()
        await SessionManager(store=store, session_id=session_id).get_messages_for_llm()
        prompt = time.perf_counter() - start
        return moved, loaded * 1000, prompt * 1000
    finally:
        await store.close()


def store_url(kind: str, folder: str) -> str:
    token = os.urandom(6).hex()
    return {
        "file": f"file://{folder}/files",
        "sqlite": f"sqlite:///{folder}/bench.db",
        "postgres": f"{POSTGRES_URL}?schema=bench_attach_{token}",
        "redis": f"{REDIS_URL}?key_prefix=bench-attach-{token}:",
    }[kind]


async def drop(url: str, kind: str) -> None:
    if kind not in ("postgres", "redis"):
        return
    store: Any = open_store(url)
    if kind == "redis":
        async for key in store.client.scan_iter(match=f"{store.key_prefix}blob:*"):
            await store.client.delete(key)
    await store.drop_all()
    await store.close()


async def run_store(kind: str, args: argparse.Namespace) -> list[list[Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        url = store_url(kind, folder)
        try:
            for variant, write in (("references", write_references), ("inline", write_inline)):
                writer = open_store(url)
                session_id = await write(writer, args)
                await writer.close()
                moved, load_ms, prompt_ms = await resume(url, session_id)
                rows.append([kind, variant, moved, load_ms, prompt_ms])
        finally:
            await drop(url, kind)
    inline_bytes = rows[1][2]
    for row in rows:
        row.append(100 * row[2] / inline_bytes)
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", default="file,sqlite")
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--images", type=int, default=75)
    parser.add_argument("--image-kb", type=int, default=500)
    args = parser.parse_args()
    rows: list[list[Any]] = []
    for kind in args.stores.split(","):
        rows.extend(await run_store(kind, args))
    title = (
        f"Resuming {args.turns} turns with {args.images} images of {args.image_kb} KB ({machine()})"
    )
    header = ["store", "images", "bytes loaded", "load ms", "first prompt ms", "% of inline"]
    print(table(title, header, rows))


if __name__ == "__main__":
    asyncio.run(main())
