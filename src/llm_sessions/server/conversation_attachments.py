"""``input_image`` and ``input_file`` parts of Conversations items: stored once as blobs of the
store (the event keeps a reference), and read back with the reference as ``file_id``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..interop._input_attachments import attachment_of_part
from ..models import Attachment
from ..models._attachment import ATTACHMENT_PART
from ..storage import blob_area
from .conversation_schema import InputFilePart, InputImagePart, ItemIn, MessageIn

__all__ = ["AttachmentParts", "item_part", "store_item_attachments"]

AttachmentParts = dict[tuple[int, int], dict[str, Any]]
"""(item index, part index) -> the stored attachment part."""


async def store_item_attachments(items: Sequence[ItemIn], store: Any) -> AttachmentParts:
    """Check every image and file part of ``items``, then store their bytes.

    Args:
        items: The request's items.
        store: The (tenant's) store.

    Returns:
        The stored parts, by (item index, part index).

    Raises:
        InvalidInputError: A part is not a valid attachment (nothing is stored).
    """
    checked: list[tuple[tuple[int, int], Attachment]] = []
    for index, item in enumerate(items):
        if not isinstance(item, MessageIn) or isinstance(item.content, str):
            continue
        for at, part in enumerate(item.content):
            if isinstance(part, InputImagePart | InputFilePart):
                field = f"items[{index}].content[{at}]"
                checked.append(((index, at), attachment_of_part(part.model_dump(), field)))
    area = blob_area(store) if checked else None
    stored: AttachmentParts = {}
    for place, attachment in checked:
        assert area is not None
        ref = None if attachment.data is None else await area.put(attachment.data)
        stored[place] = attachment.part(ref)
    return stored


def item_part(part: Any) -> Any:
    """A stored message part as an item's content part (attachments as input parts)."""
    if not isinstance(part, dict) or part.get("type") != ATTACHMENT_PART:
        return part
    if str(part.get("media_type", "")).startswith("image/"):
        return {
            "type": "input_image",
            "detail": part.get("detail", "auto"),
            "file_id": part.get("ref"),
            "image_url": part.get("url"),
        }
    return {
        "type": "input_file",
        "file_id": part.get("ref"),
        "file_url": part.get("url"),
        "filename": part.get("name"),
    }
