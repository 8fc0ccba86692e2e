"""Names of the keys a ``LifecycleManager`` stores; every one is scoped by sandbox.

Sandbox ids contain no ``:``, so the text between ``sandbox:`` and the next ``:`` is always the
sandbox, whatever the session id holds: two tenants' keys can never coincide.
"""

from __future__ import annotations

__all__ = ["access_key", "record_key"]


def record_key(sandbox_id: str, session_id: str) -> str:
    """The key of a session's JSON record."""
    return f"sandbox:{sandbox_id}:session:{session_id}"


def access_key(sandbox_id: str, session_id: str) -> str:
    """The key of a session's last-access time, written by ``validate_session``.

    Kept apart from the record so that touching a session never rewrites (and never undoes a
    concurrent change to) its metadata or expiry.
    """
    return f"sandbox:{sandbox_id}:access:{session_id}"
