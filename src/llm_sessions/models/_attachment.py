"""An image or file given with a message, kept by reference to a content-addressed blob."""

from __future__ import annotations

import base64
import binascii
import hashlib
import mimetypes
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from ..exceptions import InvalidInputError
from ._image_header import IMAGE_TYPES, image_size

__all__ = ["ATTACHMENT_PART", "FILE_TYPES", "MAX_ATTACHMENT_BYTES", "Attachment"]

ATTACHMENT_PART = "attachment"
"""The ``type`` of an attachment's part in a stored message's ``content`` list."""
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
FILE_TYPES = frozenset(
    {
        "application/pdf",
        "text/plain",
        "text/markdown",
        "text/csv",
        "application/json",
    }
)
_DETAILS = ("auto", "low", "high")
_URL_SCHEMES = ("http", "https", "data")


def _check_detail(detail: str) -> str:
    if detail not in _DETAILS:
        raise InvalidInputError("attachment.detail", detail, f"must be one of {_DETAILS}")
    return detail


def _check_media_type(media_type: str) -> str:
    known = IMAGE_TYPES | FILE_TYPES
    if not isinstance(media_type, str) or media_type.lower() not in known:
        raise InvalidInputError(
            "attachment.media_type", media_type, f"must be one of {sorted(known)}"
        )
    return media_type.lower()


def _check_size(size: int, limit: int) -> None:
    if size > limit:
        raise InvalidInputError("attachment.size", size, f"must be at most {limit} bytes")


@dataclass(frozen=True, slots=True)
class Attachment:
    """An image or file to record with a user message (see ``SessionManager.user_says``).

    Build one with ``from_path``, ``from_bytes`` or ``from_url``. Bytes are stored once in the
    store's blob area, named by their SHA-256; the event keeps only the reference, the media
    type, the size and, for images, the width and height.
    """

    media_type: str
    data: bytes | None = field(default=None, repr=False)
    url: str | None = None
    name: str | None = None
    detail: str = "auto"
    width: int | None = None
    height: int | None = None

    @property
    def is_image(self) -> bool:
        """Whether this is an image (else a file)."""
        return self.media_type in IMAGE_TYPES

    @property
    def sha256(self) -> str | None:
        """The hex SHA-256 of the bytes (None for an attachment by URL)."""
        return None if self.data is None else hashlib.sha256(self.data).hexdigest()

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        media_type: str,
        *,
        name: str | None = None,
        detail: str = "auto",
        max_bytes: int = MAX_ATTACHMENT_BYTES,
    ) -> Attachment:
        """An attachment of these bytes.

        Args:
            data: The content.
            media_type: Its media type (PNG, JPEG, GIF, WebP; PDF, text, Markdown, CSV, JSON).
            name: A file name shown with it.
            detail: For images, ``"auto"``, ``"low"`` or ``"high"``.
            max_bytes: The largest size accepted.

        Returns:
            The attachment.

        Raises:
            InvalidInputError: Not bytes, too large, an unknown media type, a bad detail, or an
                image whose header is not readable.
        """
        if not isinstance(data, bytes | bytearray):
            raise InvalidInputError("attachment.data", type(data).__name__, "must be bytes")
        media_type = _check_media_type(media_type)
        _check_size(len(data), max_bytes)
        detail = _check_detail(detail)
        data = bytes(data)
        width = height = None
        if media_type in IMAGE_TYPES:
            width, height = image_size(data, media_type)
        return cls(media_type, data, None, name, detail, width, height)

    @classmethod
    def from_path(
        cls,
        path: str | os.PathLike[str],
        media_type: str | None = None,
        *,
        detail: str = "auto",
        max_bytes: int = MAX_ATTACHMENT_BYTES,
    ) -> Attachment:
        """An attachment of a file's content, named after the file.

        Args:
            path: The file.
            media_type: Its media type (default: guessed from the file name).
            detail: For images, ``"auto"``, ``"low"`` or ``"high"``.
            max_bytes: The largest size accepted.

        Returns:
            The attachment.

        Raises:
            InvalidInputError: As ``from_bytes``, or the file is missing or too large.
        """
        name = os.path.basename(os.fspath(path))
        guessed = media_type or mimetypes.guess_type(name)[0] or ""
        try:
            _check_size(os.path.getsize(path), max_bytes)
            with open(path, "rb") as handle:
                data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise InvalidInputError("attachment.path", os.fspath(path), str(exc)) from exc
        return cls.from_bytes(data, guessed, name=name, detail=detail, max_bytes=max_bytes)

    @classmethod
    def from_url(
        cls,
        url: str,
        media_type: str | None = None,
        *,
        detail: str = "auto",
        max_bytes: int = MAX_ATTACHMENT_BYTES,
    ) -> Attachment:
        """An attachment by URL: an ``http(s)`` URL is kept as is and sent as is (never
        fetched); a ``data:`` URL is decoded and stored like ``from_bytes``.

        Args:
            url: The URL.
            media_type: Its media type (default: from a data URL, else guessed from the path;
                an http(s) URL whose type cannot be told is taken as an image).
            detail: For images, ``"auto"``, ``"low"`` or ``"high"``.
            max_bytes: The largest size a data URL may decode to.

        Returns:
            The attachment.

        Raises:
            InvalidInputError: The scheme is not http, https or data, or a data URL is bad.
        """
        scheme = urlsplit(url).scheme.lower() if isinstance(url, str) else ""
        if scheme not in _URL_SCHEMES:
            raise InvalidInputError("attachment.url", url, f"scheme must be one of {_URL_SCHEMES}")
        if scheme == "data":
            data, declared = _decode_data_url(url)
            return cls.from_bytes(data, media_type or declared, detail=detail, max_bytes=max_bytes)
        guessed = media_type or mimetypes.guess_type(urlsplit(url).path)[0] or "image/png"
        return cls(_check_media_type(guessed), None, url, None, _check_detail(detail))

    def part(self, ref: str | None) -> dict[str, Any]:
        """This attachment's part in a stored message (no bytes: a reference).

        Args:
            ref: The blob reference (``sha256:<hex>``), None for an attachment by URL.

        Returns:
            The JSON part.
        """
        part: dict[str, Any] = {"type": ATTACHMENT_PART, "media_type": self.media_type}
        extras = {
            "ref": ref,
            "url": self.url,
            "size": None if self.data is None else len(self.data),
            "name": self.name,
            "width": self.width,
            "height": self.height,
            "detail": self.detail if self.is_image else None,
        }
        part.update({key: value for key, value in extras.items() if value is not None})
        return part


def _decode_data_url(url: str) -> tuple[bytes, str]:
    header, sep, payload = url[5:].partition(",")
    if not sep:
        raise InvalidInputError("attachment.url", url, "a data URL needs a ',' before its data")
    params = header.split(";")
    try:
        if "base64" in params[1:]:
            return base64.b64decode(payload, validate=True), params[0]
        return unquote_to_bytes(payload), params[0]
    except (binascii.Error, ValueError) as exc:
        raise InvalidInputError("attachment.url", url, f"bad base64 data: {exc}") from exc
