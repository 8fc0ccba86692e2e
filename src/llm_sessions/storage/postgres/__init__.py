"""The PostgreSQL store (asyncpg): its schema, migrations and vacuum."""

from .._side_records import SIDE_RECORDS, PostgresRecords
from .._vectors import VECTORS
from ._store import (
    SCHEMA_VERSION,
    PostgresSessionStore,
)
from ._vectors import PostgresVectors

__all__ = [
    "SCHEMA_VERSION",
    "PostgresSessionStore",
]

VECTORS.declare(PostgresSessionStore, PostgresVectors)
SIDE_RECORDS.declare(PostgresSessionStore, lambda store: PostgresRecords(store.dsn, store.schema))
