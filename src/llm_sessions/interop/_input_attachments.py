"""Responses-API ``input_image`` / ``input_file`` parts kept by reference: the bytes of a data
URL go to the store's blob area and the part becomes an attachment part; reading turns it back
into an input part with the bytes as a data URL again."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from ..exceptions import InvalidInputError
from ..models._attachment import ATTACHMENT_PART, Attachment
from ..prompting._attachment_parts import attachment_content, chat_parts, resolve_attachments
from ..prompting._render import ChatRole
from ..storage._blob_collection import blob_area, read_blobs
from ..tokens._image_tokens import image_tokens
from .openai_responses import input_parts

__all__ = [
    "INPUT_PARTS",
    "attachment_of_part",
    "check_parts",
    "image_tokens_of_parts",
    "restore_parts",
    "store_parts",
]

INPUT_PARTS = ("input_image", "input_file")


def attachment_of_part(part: Mapping[str, Any], field: str) -> Attachment:
    """The attachment an ``input_image`` or ``input_file`` part describes.

    Args:
        part: The part.
        field: Where it is, for errors (``items[0].content[1]``).

    Returns:
        The attachment (checked: size, media type, URL scheme, image header).

    Raises:
        InvalidInputError: The part is not a valid attachment.
    """
    if part.get("file_id") is not None:
        raise InvalidInputError(
            f"{field}.file_id", part["file_id"], "is not supported: send the bytes as a data URL"
        )
    if part.get("type") == "input_image":
        url = part.get("image_url")
        if not isinstance(url, str):
            raise InvalidInputError(f"{field}.image_url", url, "an input_image needs image_url")
        return Attachment.from_url(url, detail=str(part.get("detail") or "auto"))
    url = part.get("file_data") or part.get("file_url")
    if not isinstance(url, str):
        raise InvalidInputError(f"{field}.file_data", url, "needs file_data or file_url")
    found = Attachment.from_url(url, None if part.get("file_data") else "application/pdf")
    name = part.get("filename")
    return Attachment(found.media_type, found.data, found.url, name if name else "file")


def check_parts(content: Any, field: str) -> dict[int, Attachment]:
    """The attachments of ``content``'s input image and file parts, by part index (checked,
    nothing stored).

    Raises:
        InvalidInputError: A part is not a valid attachment.
    """
    if not isinstance(content, list):
        return {}
    return {
        at: attachment_of_part(part, f"{field}[{at}]")
        for at, part in enumerate(content)
        if isinstance(part, Mapping) and part.get("type") in INPUT_PARTS
    }


async def store_parts(
    content: Sequence[Any], found: Mapping[int, Attachment], store: Any
) -> list[Any]:
    """``content`` with the parts ``check_parts`` found stored as blobs and replaced by
    attachment parts."""
    area = blob_area(store)
    parts = list(content)
    for at, attachment in found.items():
        ref = None if attachment.data is None else await area.put(attachment.data)
        parts[at] = attachment.part(ref)
    return parts


async def restore_parts(message: Any, store: Any) -> Any:
    """A stored Responses message with its attachment parts as input parts again, the bytes
    as data URLs (other messages unchanged).

    Raises:
        StorageError: A blob the message names is missing from the store.
    """
    content = attachment_content(message)
    if content is None:
        return message
    stored = [part for part in content if _is_attachment(part)]
    chat = {"role": ChatRole.USER.value, "content": chat_parts(stored)}
    (resolved,) = await resolve_attachments([chat], partial(read_blobs, store))
    restored = iter(input_parts(resolved["content"]))
    return {**message, "content": [next(restored) if _is_attachment(p) else p for p in content]}


def _is_attachment(part: Any) -> bool:
    return isinstance(part, Mapping) and part.get("type") == ATTACHMENT_PART


def image_tokens_of_parts(content: Any, model: str) -> int:
    """The input tokens of the image attachment parts in ``content`` for ``model``.

    Args:
        content: A stored message's content.
        model: The model the tokens are counted for.

    Returns:
        The tokens (0 for content without images).
    """
    if not isinstance(content, list):
        return 0
    return sum(
        image_tokens(model, part.get("width"), part.get("height"), part.get("detail", "auto"))
        for part in content
        if _is_attachment(part) and str(part.get("media_type", "")).startswith("image/")
    )
