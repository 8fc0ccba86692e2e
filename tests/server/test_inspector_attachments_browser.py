"""The inspector shows an event's images as thumbnails and its files by name (a real server
process and Chromium)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from browser_helpers import run, sign_in, waiting_expect
from server_helpers import KEY_A, KEYS, server_process

from llm_sessions import Attachment, SessionManager
from llm_sessions.storage import open_store

pytestmark = pytest.mark.slow
SESSION = "alpha.pictures"


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _png(width: int, height: int) -> bytes:
    """A complete one-colour PNG that a browser decodes."""
    header = struct.pack(">II", width, height) + b"\x08\x02\x00\x00\x00"
    pixels = zlib.compress((b"\x00" + b"\x24\x54\xc5" * width) * height)
    chunks = _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


async def _seed(store_url: str) -> None:
    async with open_store(store_url) as store:
        sm = SessionManager(store=store, session_id=SESSION)
        image = Attachment.from_bytes(_png(48, 24), "image/png", name="chart.png")
        pdf = Attachment.from_bytes(b"%PDF-1.7 x", "application/pdf", name="report.pdf")
        await sm.user_says(["see these", image, pdf])


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store_url = f"sqlite:///{tmp_path_factory.mktemp('pictures') / 'pictures.db'}"
    run(_seed(store_url))
    keys = ",".join(f"{key}={tenant}" for key, tenant in KEYS.items())
    with server_process(store_url, {"LLM_SESSIONS_API_KEYS": keys}) as base_url:
        yield base_url


def test_images_show_as_thumbnails_and_files_by_name(page: Any, pictures: str) -> None:
    sign_in(page, pictures, KEY_A, f"/sessions/{SESSION}")
    expect = waiting_expect()
    thumb = page.locator("li.kind-user_message .attachments img.thumb")
    expect(thumb).to_have_count(1)
    expect(thumb).to_have_attribute("alt", "chart.png (48x24)")
    # Read as properties: a polled script would be evaluated, which the page's CSP forbids.
    expect(thumb).to_have_js_property("complete", True)
    expect(thumb).to_have_js_property("naturalWidth", 48)
    link = page.locator(".attachments a.attachment-file")
    expect(link).to_contain_text("report.pdf")
