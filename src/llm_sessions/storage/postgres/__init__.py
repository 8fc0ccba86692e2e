"""The PostgreSQL store (asyncpg): its schema, migrations and vacuum."""

from ._store import (
    SCHEMA_VERSION,
    PostgresSessionStore,
)

__all__ = [
    "SCHEMA_VERSION",
    "PostgresSessionStore",
]
