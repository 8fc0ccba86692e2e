"""The inspector's static files, read once from the installed package, and their URLs.

A page names each file with a version, the start of the file's SHA-256 (``?v=``): a browser
may keep a file asked for by its current version for a year, since a changed file gets
another URL. A request without it (or with an old one) is answered, but not to be kept.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["ASSET_PREFIX", "Asset", "asset", "asset_url"]

ASSET_PREFIX = "/inspector/assets"
_TYPES = {
    "pages.js": "text/javascript",
    "inspector.js": "text/javascript",
    "inspector.css": "text/css",
    "favicon.ico": "image/x-icon",
}


@dataclass(frozen=True)
class Asset:
    """A static file: its bytes, media type and version."""

    content: bytes
    media_type: str
    version: str


@cache
def asset(name: str) -> Asset | None:
    """The static file ``name``, or None when there is no such file.

    Args:
        name: the file's name in the package's ``static`` folder.

    Returns:
        The ``Asset``, read once.
    """
    media_type = _TYPES.get(name)
    if media_type is None:
        return None
    content = resources.files(__package__).joinpath("static", name).read_bytes()
    return Asset(content, media_type, hashlib.sha256(content).hexdigest()[:12])


def asset_url(name: str) -> str:
    """The URL of the static file ``name`` with its current version.

    Args:
        name: one of the static files.

    Returns:
        The path, with ``?v=`` and the version.

    Raises:
        KeyError: ``name`` is not one of the static files.
    """
    found = asset(name)
    if found is None:
        raise KeyError(name)
    return f"{ASSET_PREFIX}/{name}?v={found.version}"
