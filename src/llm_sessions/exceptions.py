"""The errors llm_sessions raises.

Every error the library raises on purpose derives from ``SessionManagerError``::

    SessionManagerError
    ├── InvalidInputError (also ValueError)   bad input, rejected before anything changed
    │   ├── InvalidSessionId                  an id that could name a path or is too long
    │   └── InvalidFileError                  an import file that cannot be read; names the line
    ├── SessionNotFound (also ValueError)     no session with that id in the store
    ├── SessionAlreadyExists                  an id that is already taken
    ├── InvalidSessionOperation               an operation the session's state does not allow
    ├── TokenLimitExceeded                    more tokens than a limit allows
    ├── StorageError                          the store failed; raised ``from`` the driver's error
    │   ├── CorruptSessionData                stored data that cannot be read back
    │   └── EncryptionKeyError                encrypted data and no key (or another key) for it
    └── ToolProcessingError                   a tool could not be run

Driver errors (sqlite3, redis, asyncpg, OSError) are translated into ``StorageError`` at the
store boundary with ``raise StorageError(...) from exc`` so the original stays attached.
"""

from __future__ import annotations

__all__ = [
    "CorruptSessionData",
    "EncryptionKeyError",
    "InvalidFileError",
    "InvalidInputError",
    "InvalidSessionId",
    "InvalidSessionOperation",
    "SessionAlreadyExists",
    "SessionManagerError",
    "SessionNotFound",
    "StorageError",
    "TokenLimitExceeded",
    "ToolProcessingError",
]


class SessionManagerError(Exception):
    """Base class of every error raised by llm_sessions."""


class InvalidInputError(SessionManagerError, ValueError):
    """A value was rejected before any state changed.

    The message names the field, the offending value and the limit it broke.
    """

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}={_short_repr(value)} is invalid: {reason}")


class InvalidSessionId(InvalidInputError):
    """An id that is empty, too long, or could name a path outside a store."""


class InvalidFileError(InvalidInputError):
    """A file to import is malformed; nothing from it was stored.

    ``line`` is the 1-based line (or, for a JSON array, the 1-based item) at fault.
    """

    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        self.reason = reason
        self.field = f"line {line}"
        self.value = None
        Exception.__init__(self, f"line {line}: {reason}")


class SessionNotFound(SessionManagerError, ValueError):
    """No session with this id exists in the store."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        super().__init__(f"Session {session_id!r} not found")


class SessionAlreadyExists(SessionManagerError):
    """A session with this id already exists."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        super().__init__(f"Session {session_id!r} already exists")


class InvalidSessionOperation(SessionManagerError):
    """The operation is not allowed in the session's current state."""

    def __init__(self, operation: str, reason: str) -> None:
        self.operation = operation
        self.reason = reason
        super().__init__(f"Cannot {operation}: {reason}")


class TokenLimitExceeded(SessionManagerError):
    """More tokens than a limit allows."""

    def __init__(self, limit: int, actual: int) -> None:
        self.limit = limit
        self.actual = actual
        super().__init__(f"Token limit exceeded: {actual} tokens, limit {limit}")


class StorageError(SessionManagerError):
    """The store could not complete an operation; ``__cause__`` holds the driver's error."""


class CorruptSessionData(StorageError):
    """Stored data that cannot be read back; the message names where it lives."""

    def __init__(self, location: str, reason: str) -> None:
        self.location = location
        self.reason = reason
        super().__init__(f"Unreadable session data at {location}: {reason}")


class EncryptionKeyError(StorageError):
    """Encrypted data that this store has no key for, or that does not decrypt with it."""


class ToolProcessingError(SessionManagerError):
    """A tool could not be run."""

    def __init__(self, tool_name: str, reason: str) -> None:
        self.tool_name = tool_name
        self.reason = reason
        super().__init__(f"Tool {tool_name!r} failed: {reason}")


def _short_repr(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."
