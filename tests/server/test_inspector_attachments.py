"""The inspector's attachment route: the bytes to the tenant whose session names them."""

from __future__ import annotations

import struct

import httpx

from llm_sessions import Attachment, SessionManager
from llm_sessions.server.tenancy import TenantStore
from llm_sessions.storage import InMemorySessionStore, blob_area, collect_blobs

GIF = b"GIF89a" + struct.pack("<HH", 4, 4) + b"\0" * 20


async def _seed(store: InMemorySessionStore) -> tuple[str, str, str]:
    sm = SessionManager(store=store, session_id="alpha.pictures")
    image = Attachment.from_bytes(GIF, "image/gif")
    pdf = Attachment.from_bytes(b"%PDF-1.7 x", "application/pdf", name="report é.pdf")
    await sm.user_says(["look", image, pdf])
    return sm.session_id, image.sha256 or "", pdf.sha256 or ""


async def test_the_tenant_gets_its_images_inline_and_files_as_downloads(
    client: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    session_id, image, pdf = await _seed(memory_store)
    shown = await client.get(f"/inspector/api/sessions/{session_id}/blobs/{image}")
    assert shown.status_code == 200 and shown.content == GIF
    assert shown.headers["content-type"] == "image/gif"
    assert shown.headers["x-content-type-options"] == "nosniff"
    download = await client.get(f"/inspector/api/sessions/{session_id}/blobs/{pdf}")
    assert download.content == b"%PDF-1.7 x"
    assert download.headers["content-disposition"] == (
        "attachment; filename*=UTF-8''report%20%C3%A9.pdf"
    )


async def test_another_tenant_or_an_unnamed_blob_is_not_found(
    client: httpx.AsyncClient, client_b: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    session_id, image, _ = await _seed(memory_store)
    other = SessionManager(store=memory_store, session_id="alpha.other")
    await other.user_says("no pictures here")
    for caller, path in (
        (client_b, f"/inspector/api/sessions/{session_id}/blobs/{image}"),
        (client, f"/inspector/api/sessions/alpha.other/blobs/{image}"),
        (client, f"/inspector/api/sessions/{session_id}/blobs/{'0' * 64}"),
        (client, f"/inspector/api/sessions/{session_id}/blobs/not-a-digest"),
    ):
        answer = await caller.get(path)
        assert answer.status_code == 404, path


async def test_collecting_through_a_tenants_view_keeps_other_tenants_blobs(
    memory_store: InMemorySessionStore,
) -> None:
    session_id, image, _ = await _seed(memory_store)  # tenant alpha names both blobs
    beta_view = TenantStore(memory_store, "beta")
    assert await collect_blobs(beta_view, grace_seconds=0) == 0
    assert f"sha256:{image}" in await blob_area(memory_store).touched()
    assert await memory_store.get(session_id) is not None
