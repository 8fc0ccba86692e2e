"""Sandbox, user and session ids: where they come from and what they may contain."""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Mapping

from ..exceptions import InvalidInputError, InvalidSessionId
from ..validation import MAX_ID_LENGTH, validate_id

__all__ = [
    "SANDBOX_ENV_VAR",
    "check_user_id",
    "generate_session_id",
    "resolve_sandbox_id",
    "validate_sandbox_id",
]

SANDBOX_ENV_VAR = "CHUK_SANDBOX_ID"

_USER_PART = re.compile(r"[^A-Za-z0-9_-]")
_USER_PART_MAX = 32
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def validate_sandbox_id(value: object, field: str = "sandbox_id") -> str:
    """Return ``value`` if it is a valid id without ``:``.

    Store keys read ``sandbox:{sandbox_id}:...``; a ``:`` in the sandbox id could make two
    tenants' keys coincide, and a ``/`` would break grid paths.
    """
    sandbox_id = validate_id(value, field)
    if ":" in sandbox_id:
        raise InvalidSessionId(field, sandbox_id, "must not contain ':'")
    return sandbox_id


def resolve_sandbox_id(sandbox_id: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The argument if given, else ``$CHUK_SANDBOX_ID``, else a new ``sandbox-xxxxxxxx``."""
    if sandbox_id is not None:
        return validate_sandbox_id(sandbox_id)
    env = os.environ if environ is None else environ
    from_env = env.get(SANDBOX_ENV_VAR)
    if from_env:
        return validate_sandbox_id(from_env, SANDBOX_ENV_VAR)
    return f"sandbox-{secrets.token_hex(4)}"


def check_user_id(value: object) -> str | None:
    """Return ``value`` if it is None or a non-empty string of at most 256 characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError("user_id", value, f"must be a string, not {type(value).__name__}")
    if not value:
        raise InvalidInputError("user_id", value, "must not be empty")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidInputError(
            "user_id", value, f"is {len(value)} characters long; the limit is {MAX_ID_LENGTH}"
        )
    if _CONTROL.search(value):
        raise InvalidInputError("user_id", value, "must not contain control characters")
    return value


def generate_session_id(user_id: str | None) -> str:
    """``sess-<user>-<unix time>-<8 hex>``; the user part keeps ``[A-Za-z0-9_-]``, else ``anon``."""
    user_part = _USER_PART.sub("", user_id or "")[:_USER_PART_MAX] or "anon"
    return f"sess-{user_part}-{int(time.time())}-{secrets.token_hex(4)}"
