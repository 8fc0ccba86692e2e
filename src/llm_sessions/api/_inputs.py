"""Checking what callers hand the ``SessionManager``: its store, and a tool call to record."""

from __future__ import annotations

from typing import Any

from ..exceptions import InvalidInputError
from ..storage import SessionStoreInterface, open_store
from ..validation import ensure_json_value

__all__ = ["as_store", "tool_call_message"]


def as_store(store: SessionStoreInterface | str | None) -> SessionStoreInterface | None:
    """A store, a store URL (opened here) or None, checked.

    Raises:
        InvalidInputError: ``store`` is none of those.
    """
    if isinstance(store, str):
        return open_store(store)
    if store is not None and not isinstance(store, SessionStoreInterface):
        raise InvalidInputError("store", store, "must be a session store, a store URL or None")
    return store


def tool_call_message(
    tool_name: str,
    arguments: dict[str, Any],
    result: Any,
    error: str | None,
    call_id: str | None,
    metadata: dict[str, Any],
) -> dict[str, Any]:
    """The message of a tool call event, checked before anything is recorded.

    Raises:
        InvalidInputError: naming the field that is not a JSON value or not a non-empty name.
    """
    if not isinstance(tool_name, str) or not tool_name:
        raise InvalidInputError("tool_name", tool_name, "must be a non-empty string")
    if call_id is not None and (not isinstance(call_id, str) or not call_id):
        raise InvalidInputError("call_id", call_id, "must be a non-empty string or None")
    message = {
        "tool": tool_name,
        "arguments": arguments,
        "result": result,
        "error": error,
        "success": error is None,
    }
    if call_id is not None:
        message["tool_call_id"] = call_id
    ensure_json_value(message, "tool call")
    ensure_json_value(metadata, "metadata")
    return message
