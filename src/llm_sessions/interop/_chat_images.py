"""Imported chat messages whose ``image_url`` parts are ``data:`` URLs: the bytes leave the
event for the blob area (an attachment by reference, as ``user_says`` records one) instead of
staying inline as base64."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..exceptions import InvalidFileError, InvalidInputError
from ..models._attachment import Attachment
from ..tokens._image_tokens import image_tokens

__all__ = ["ImagesByReference", "images_by_reference"]


@dataclass(frozen=True, slots=True)
class ImagesByReference:
    """A content list with its data-URL images replaced by attachment parts."""

    message: dict[str, Any]
    """The message to record: ``{"content": [parts]}``, images as references."""
    text: str
    """The text parts, joined by blank lines, to count."""
    image_tokens: int
    """The images' input tokens by OpenAI's rules."""


def _is_data_image(part: Any) -> bool:
    image = part.get("image_url") if isinstance(part, Mapping) else None
    url = image.get("url") if isinstance(image, Mapping) else None
    return part.get("type") == "image_url" and isinstance(url, str) and url.startswith("data:")


def images_by_reference(
    content: Sequence[Any], number: int, model: str, blobs: dict[str, bytes]
) -> ImagesByReference | None:
    """``content`` with each ``image_url`` part holding a data URL turned into an attachment
    part, its bytes added to ``blobs`` by reference; None when no part is such an image.

    Args:
        content: A chat message's content parts.
        number: The message's place in the file (1 first), named in errors.
        model: The model the images are counted for.
        blobs: Where the bytes go, by reference (``sha256:<hex>``).

    Returns:
        The message to record, its text and its image tokens, or None.

    Raises:
        InvalidFileError: A data URL is not a valid image (naming the message and the part).
    """
    if not any(_is_data_image(part) for part in content):
        return None
    parts: list[Any] = []
    texts: list[str] = []
    tokens = 0
    found: dict[str, bytes] = {}
    for at, part in enumerate(content):
        if not _is_data_image(part):
            parts.append(part)
            text = part.get("text") if isinstance(part, Mapping) else part
            texts.append(text if isinstance(text, str) else json.dumps(part))
            continue
        image = part["image_url"]
        detail = str(image.get("detail") or "auto")
        try:
            attachment = Attachment.from_url(image["url"], detail=detail)
        except InvalidInputError as exc:
            raise InvalidFileError(number, f"content[{at}].image_url: {exc}") from exc
        ref = f"sha256:{attachment.sha256}"
        found[ref] = attachment.data or b""
        parts.append(attachment.part(ref))
        if attachment.is_image:
            tokens += image_tokens(model, attachment.width, attachment.height, attachment.detail)
    blobs.update(found)  # only once the whole message is good
    return ImagesByReference({"content": parts}, "\n\n".join(texts), tokens)
