"""The asyncpg driver, imported when the PostgreSQL store first needs it, and its errors."""

from __future__ import annotations

from typing import Any

__all__ = ["driver_errors", "import_asyncpg"]


def import_asyncpg() -> Any:
    """The ``asyncpg`` module; ``ImportError`` saying how to install it when it is missing."""
    try:
        import asyncpg
    except ImportError as exc:
        raise ImportError(
            "The PostgreSQL session store needs the `asyncpg` package: "
            'pip install "llm-sessions[postgres]"'
        ) from exc
    return asyncpg


def driver_errors(asyncpg: Any) -> tuple[type[BaseException], ...]:
    """The errors of an operation that the store reports as ``StorageError``."""
    # InternalClientError ("cannot switch to state ...") is what a connection whose backend
    # was terminated mid-operation can raise; it derives from neither of the other two.
    from asyncpg.exceptions import InternalClientError

    return (
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        InternalClientError,
        OSError,
        TimeoutError,
    )
