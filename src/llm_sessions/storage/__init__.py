"""Where sessions are kept: the store contract, the default store and the stores themselves.

The modules here are private; this package's exports are its public API. Each store has a
package of its own (``sqlite``, ``postgres``, ``redis``, ``file``) and ``memory``.
"""

from . import _vector_stores  # noqa: F401 - registers the erasure of vectors
from ._base import SessionStore, SessionStoreInterface, StoreState, refreshed
from ._blob_collection import blob_area, collect_blobs
from ._erasure import AuditRecord, ErasureReceipt
from ._event_log import EventLogStore
from ._event_page import EventPage
from ._fleet_query import SessionPage, UsageRow
from ._messages import MessageLog, read_messages
from ._options import DEFAULT_MAX_EVENT_BYTES, StoreOptions
from ._provider import STORE_ENV_VAR, SessionStoreProvider
from ._redaction import Redactor, redact_pii
from ._retention import Retention, RetentionReport, TrimmedSession
from ._search_models import SearchHit, SearchPage
from ._summaries import ModelTotals, SessionSummary
from ._url import open_store, supported_schemes
from ._vectors_index import IndexStatus
from .file import FileSessionStore, create_file_session_store
from .memory import InMemorySessionStore
from .postgres import PostgresSessionStore
from .redis import RedisSessionStore, create_redis_session_store
from .sqlite import SQLiteSessionStore

__all__ = [
    "DEFAULT_MAX_EVENT_BYTES",
    "STORE_ENV_VAR",
    "AuditRecord",
    "ErasureReceipt",
    "EventLogStore",
    "EventPage",
    "FileSessionStore",
    "InMemorySessionStore",
    "IndexStatus",
    "MessageLog",
    "ModelTotals",
    "PostgresSessionStore",
    "Redactor",
    "RedisSessionStore",
    "Retention",
    "RetentionReport",
    "SQLiteSessionStore",
    "SearchHit",
    "SearchPage",
    "SessionPage",
    "SessionStore",
    "SessionStoreInterface",
    "SessionStoreProvider",
    "SessionSummary",
    "StoreOptions",
    "StoreState",
    "TrimmedSession",
    "UsageRow",
    "blob_area",
    "collect_blobs",
    "create_file_session_store",
    "create_redis_session_store",
    "open_store",
    "read_messages",
    "redact_pii",
    "refreshed",
    "supported_schemes",
]
