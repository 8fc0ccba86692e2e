"""The namespace prefix every listing, search and erasure takes (a tenant's ids start with it)."""

from __future__ import annotations

from ..exceptions import InvalidInputError

__all__ = ["check_prefix"]


def check_prefix(prefix: object) -> str:
    """The ``list_sessions`` prefix, refused unless it is a string."""
    if not isinstance(prefix, str):
        raise InvalidInputError("prefix", prefix, "must be a string ('' lists every session)")
    return prefix
