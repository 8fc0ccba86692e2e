"""An attachment's bytes for the inspector (thumbnails and file downloads), to the caller whose
session names it: another tenant's session, or a blob the session does not name, is a 404."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import Response

from ...exceptions import InvalidInputError
from ...models._attachment import ATTACHMENT_PART
from ...storage import blob_area
from ...storage._blobs import BLOB_PREFIX, check_ref
from ..dependencies import Scoped
from ..errors import ERROR_RESPONSES, not_found
from .pages import SECURITY_HEADERS

__all__ = ["router"]

router = APIRouter(prefix="/inspector/api", responses=ERROR_RESPONSES, include_in_schema=False)


def _named_part(events: list[Any], ref: str) -> dict[str, Any] | None:
    for event in events:
        content = event.message.get("content") if isinstance(event.message, dict) else None
        for part in content if isinstance(content, list) else ():
            if isinstance(part, dict) and part.get("type") == ATTACHMENT_PART:
                if part.get("ref") == ref:
                    return part
    return None


@router.get("/sessions/{session_id}/blobs/{digest}")
async def attachment(session_id: str, digest: str, store: Scoped) -> Response:
    """The bytes of the attachment ``sha256:<digest>`` that an event of the session names,
    with its media type: images inline, files as downloads under their name."""
    ref = BLOB_PREFIX + digest
    try:
        check_ref(ref)
    except InvalidInputError:
        raise not_found("attachment", digest) from None
    session = await store.require(session_id)
    part = _named_part(session.events, ref)
    data = None if part is None else await blob_area(store).get(ref)
    if part is None or data is None:
        raise not_found("attachment", digest)
    media_type = str(part["media_type"])
    headers = {**SECURITY_HEADERS, "X-Content-Type-Options": "nosniff"}
    if not media_type.startswith("image/"):
        name = quote(str(part.get("name") or "file"), safe="")
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
    return Response(data, media_type=media_type, headers=headers)
