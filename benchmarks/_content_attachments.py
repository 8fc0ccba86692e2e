"""``bench_content.py`` attachments: what resuming a session with many images moves.

A session of ``--turns`` turns (a user message and a reply each), ``--images`` of whose user
messages carry a distinct image of ``--image-kb`` KB, is written twice to each store: once with
``Attachment`` (the bytes go to the store's blob area, the events hold references) and once
with the images inline as base64 data URLs in the events, as a chat app that stores the
request's content does. A fresh store object then resumes each session (``store.get``): the
bytes of the events loaded (their JSON), the time that took, and the time of the first prompt
that needs the images (``get_messages_for_llm``, which reads the blobs).
"""

from __future__ import annotations

import argparse
import base64
import os
import struct
import tempfile
import time
from typing import Any

from _common import table
from _content_stores import drop, store_url

from llm_sessions import Attachment, SessionManager
from llm_sessions.models import EventSource, Session, SessionEvent
from llm_sessions.storage import SessionStore, open_store

TARGET_PERCENT = 1.0


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


async def run_store(kind: str, args: argparse.Namespace) -> list[list[Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        url = store_url(kind, folder, "attach")
        try:
            for variant, write in (("references", write_references), ("inline", write_inline)):
                writer = open_store(url)
                session_id = await write(writer, args)
                await writer.close()
                moved, load_ms, prompt_ms = await resume(url, session_id)
                rows.append([kind, variant, moved, load_ms, prompt_ms])
        finally:
            cleaner = open_store(url)
            await drop(cleaner, kind)
            await cleaner.close()
    references, inline = rows
    percent = 100 * references[2] / inline[2]
    references += [percent, "yes" if percent <= TARGET_PERCENT else "NO"]
    inline += [100.0, None]
    return rows


async def run(kinds: list[str], args: argparse.Namespace) -> str:
    """The section's table, for the durable stores among ``kinds``."""
    durable = [kind for kind in kinds if kind != "memory"]
    rows: list[list[Any]] = []
    for kind in durable:
        rows.extend(await run_store(kind, args))
    title = (
        f"Attachments: resuming {args.turns} turns with {args.images} images of "
        f"{args.image_kb} KB, by reference and inline"
    )
    header = ["store", "images", "bytes loaded", "load ms", "first prompt ms", "% of inline"]
    lines = [table(title, [*header, f"<= {TARGET_PERCENT:g}%"], rows)]
    if "memory" in kinds:
        lines.append("(memory is left out: a fresh store object cannot resume its sessions)")
    lines.append(
        f"target: a resumed session with references loads <= {TARGET_PERCENT:g}% of the bytes "
        "of the same session with the images inline (the blobs are read by the first prompt)"
    )
    return "\n".join(lines)
