"""Grid paths: ``grid/{sandbox_id}/{session_id}/{artifact_id}[/{subpath}]``.

Ids may not contain ``/`` (see ``llm_sessions.validation.validate_id``), so every path splits
back into exactly the parts it was built from.
"""

from __future__ import annotations

from typing import TypedDict

from ..exceptions import InvalidInputError, InvalidSessionId
from ..validation import validate_id
from .ids import validate_sandbox_id

__all__ = [
    "GRID_ROOT",
    "GridKey",
    "artifact_key",
    "canonical_prefix",
    "parse_grid_key",
    "sandbox_prefix",
]

GRID_ROOT = "grid"


class GridKey(TypedDict):
    """The parts of a grid path; ``subpath`` is what follows the artifact id, if anything."""

    sandbox_id: str
    session_id: str
    artifact_id: str
    subpath: str | None


def sandbox_prefix(sandbox_id: str) -> str:
    """``grid/{sandbox_id}/``: the prefix of every path in a sandbox."""
    return f"{GRID_ROOT}/{validate_sandbox_id(sandbox_id)}/"


def canonical_prefix(sandbox_id: str, session_id: str) -> str:
    """``grid/{sandbox_id}/{session_id}/``: the prefix of every artifact of a session."""
    return f"{sandbox_prefix(sandbox_id)}{validate_id(session_id, 'session_id')}/"


def artifact_key(sandbox_id: str, session_id: str, artifact_id: str) -> str:
    """``grid/{sandbox_id}/{session_id}/{artifact_id}``."""
    return f"{canonical_prefix(sandbox_id, session_id)}{validate_id(artifact_id, 'artifact_id')}"


def parse_grid_key(key: str) -> GridKey | None:
    """Split a grid path into its parts; None if ``key`` is not a well-formed grid path.

    Works for any sandbox: compare ``result["sandbox_id"]`` to decide whether a path is yours.
    Every part is checked as strictly as when a path is built: a subpath with a ``.``, ``..``
    or empty segment, a control character or a backslash makes the key not well-formed.
    """
    if not isinstance(key, str):
        raise InvalidInputError("key", key, f"must be a string, not {type(key).__name__}")
    parts = key.split("/", 4)
    if len(parts) < 4 or parts[0] != GRID_ROOT:
        return None
    _, sandbox_id, session_id, artifact_id, *rest = parts
    subpath = rest[0] if rest and rest[0] else None
    try:
        validate_sandbox_id(sandbox_id)
        validate_id(session_id, "session_id")
        validate_id(artifact_id, "artifact_id")
        for segment in subpath.split("/") if subpath is not None else ():
            validate_id(segment, "subpath")  # no '.', '..', empty segment, NUL or '\\'
    except InvalidSessionId:
        return None
    return GridKey(
        sandbox_id=sandbox_id, session_id=session_id, artifact_id=artifact_id, subpath=subpath
    )
