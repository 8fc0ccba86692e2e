"""The SQLite store's text index: FTS5 over rows written in the transaction of each save.

``search_docs`` holds one row per indexed event (its session, id, type, time, user and text),
written by the save that writes the event; ``search_text`` is an FTS5 table with the Porter
stemmer whose content is ``search_docs``. Rows reach FTS5 in batches (``flush_index``): when a
store object has written ``FLUSH_ROWS`` of them, and before every search, which therefore
sees every committed event. The rows waiting are those above the highest id FTS5 holds (a new
row's id is above every row's; a batch moves all of them), so an append writes no mark of its
own. One FTS5 write per batch instead of one per save keeps an append
almost as cheap as without the index. A save replaces the rows of events it edits and drops
those its removal records remove; deleting or pruning a session drops its rows
(``delete_session_index``). Hits are ranked by FTS5's ``bm25()``, and ``snippet()`` marks
the matched words.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ...models._session_metadata import USER_ID_PROPERTY
from .._records import StoredPage, decode_events
from .._search_index import IndexChanges, IndexRow, index_row, stamp
from .._search_models import SearchHit
from .._search_query import SearchQuery, TieKey

if TYPE_CHECKING:
    from ...models._session import Session

__all__ = [
    "FLUSH_ROWS",
    "SEARCH_SCHEMA",
    "Scope",
    "backfill_index",
    "delete_expired_index",
    "delete_session_index",
    "delete_sessions_index",
    "flush_index",
    "has_pending",
    "ids_scope",
    "search_rows",
    "write_index",
]

Scope = tuple[str, list[Any]]
"""A subquery listing the ids of the sessions a search keeps to, and its arguments."""

FLUSH_ROWS = 256
"""How many index rows a store object writes before it moves them into FTS5 (in the
transaction of the save that reaches the count)."""

SEARCH_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS search_docs (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        created_at TEXT NOT NULL,
        user_id TEXT,
        text TEXT NOT NULL,
        UNIQUE (session_id, event_id)
    )""",
    """CREATE VIRTUAL TABLE IF NOT EXISTS search_text USING fts5(
        text, content = 'search_docs', content_rowid = 'id', tokenize = 'porter unicode61'
    )""",
]
"""The index's tables (schema version 5; a file of version 4 also has a ``pending`` column,
no longer read)."""

_FEW_MATCHES = 500
"""Below this many matches a scope is applied match by match (at most about 1 ms)."""

_FLUSHED = "SELECT coalesce(max(id), 0) FROM search_text_docsize"
"""The highest id FTS5 holds (its table of document sizes has a row per document)."""

# FTS5 forgets an external-content row through a 'delete' of the text it indexed. In rowid
# order: a rowid below the last one it took makes FTS5 flush its pending terms to a new
# segment first, so an unordered batch writes (and then merges) a segment per row.
_FORGET = (
    "INSERT INTO search_text (search_text, rowid, text)"
    " SELECT 'delete', id, text FROM search_docs WHERE id <= ? AND {where} ORDER BY id"
)
_DROP = "DELETE FROM search_docs WHERE {where}"


def _drop(conn: sqlite3.Connection, where: str, args: list[tuple[Any, ...]]) -> None:
    (flushed,) = conn.execute(_FLUSHED).fetchone()  # only rows FTS5 holds are forgotten
    conn.executemany(_FORGET.format(where=where), [(flushed, *values) for values in args])
    conn.executemany(_DROP.format(where=where), args)


def delete_session_index(conn: sqlite3.Connection, session_id: str) -> None:
    """Drop every index row of one session (in the caller's transaction)."""
    _drop(conn, "session_id = ?", [(session_id,)])


def delete_sessions_index(conn: sqlite3.Connection, ids_json: str) -> None:
    """Drop every index row of the sessions whose ids ``ids_json`` lists (a JSON array), in
    the caller's transaction."""
    _drop(conn, "session_id IN (SELECT value FROM json_each(?))", [(ids_json,)])


def delete_expired_index(conn: sqlite3.Connection, now: float) -> None:
    """Drop the index rows of every session expired at ``now`` (in the caller's transaction)."""
    _drop(conn, "session_id IN (SELECT id FROM sessions WHERE expires_at <= ?)", [(now,)])


def _add_rows(conn: sqlite3.Connection, session_id: str, rows: list[IndexRow]) -> None:
    # A retried save finds its rows there already.
    conn.executemany(
        "INSERT INTO search_docs (session_id, event_id, event_type, created_at, user_id, text)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id, event_id) DO NOTHING",
        [
            (session_id, row.event_id, row.event_type, row.created_at, row.user_id, row.text)
            for row in rows
        ],
    )


def write_index(
    conn: sqlite3.Connection,
    session_id: str,
    changes: IndexChanges | None,
    stored_properties: str | None = None,
) -> int:
    """Apply one save's index changes (in the save's transaction); returns the rows added.
    ``stored_properties`` (the session row's, for a save that never read its header) gives
    the rows their owner."""
    if changes is None:
        return 0
    if changes.dropped:
        _drop(conn, "session_id = ? AND event_id = ?", [(session_id, e) for e in changes.dropped])
    rows = changes.rows
    if rows and stored_properties is not None:
        user_id = json.loads(stored_properties).get(USER_ID_PROPERTY)
        owner = user_id if isinstance(user_id, str) else None
        rows = [replace(row, user_id=owner) for row in rows]
    if rows:
        _add_rows(conn, session_id, rows)
    return len(rows)


def has_pending(conn: sqlite3.Connection) -> bool:
    """Whether rows wait to be moved into FTS5."""
    found = conn.execute(f"SELECT EXISTS (SELECT 1 FROM search_docs WHERE id > ({_FLUSHED}))")
    return bool(found.fetchone()[0])


def flush_index(conn: sqlite3.Connection) -> None:
    """Move the waiting rows into FTS5 (in the caller's write transaction)."""
    (flushed,) = conn.execute(_FLUSHED).fetchone()
    conn.execute(
        "INSERT INTO search_text (rowid, text)"
        " SELECT id, text FROM search_docs WHERE id > ? ORDER BY id",
        (flushed,),
    )


def backfill_index(
    conn: sqlite3.Connection, session_class: type[Session[Any]], cipher: Any, path: str
) -> None:
    """Index every stored event (the upgrade to schema version 4, in its transaction)."""
    sessions = conn.execute("SELECT id, properties FROM sessions").fetchall()
    for session_id, properties in sessions:
        user_id = json.loads(properties).get(USER_ID_PROPERTY)
        location = f"{path} (session {session_id!r})"
        bodies = [
            body
            for (body,) in conn.execute(
                "SELECT body FROM events WHERE session_id = ? ORDER BY seq", (session_id,)
            )
        ]
        rows = cipher.open_page(StoredPage(bodies, location)).events
        owner = user_id if isinstance(user_id, str) else None
        found = (index_row(e, owner) for e in decode_events(session_class, rows, location))
        _add_rows(conn, session_id, [row for row in found if row is not None])
    flush_index(conn)


def _match(query: SearchQuery) -> str:
    """The FTS5 query: each word or phrase quoted (so nothing in it is syntax), or-ed."""
    return " OR ".join('"' + " ".join(clause) + '"' for clause in query.clauses)


def ids_scope(session_ids: list[str]) -> Scope:
    """The scope of the sessions ``session_ids`` lists."""
    return "SELECT value FROM json_each(?)", [json.dumps(session_ids)]


def _scope_as_set(conn: sqlite3.Connection, query: SearchQuery, scope: Scope) -> bool:
    """Whether to read the rowids of the scope's events once (about 0.5 µs each, from the
    index on session_id) rather than each match's row (about 2.5 µs): when the scope holds
    fewer than 5 events per match. FTS5 counts matches from its doclists alone (tens of µs
    for a rare word); under ``_FEW_MATCHES`` reading them costs less than counting the
    scope's events, from the summary rows (unknown without them: each match's row)."""
    (matches,) = conn.execute(
        "SELECT count(*) FROM search_text WHERE search_text MATCH ?", (_match(query),)
    ).fetchone()
    if matches < _FEW_MATCHES:
        return False
    (events,) = conn.execute(
        f"SELECT sum(event_count) FROM sessions WHERE id IN ({scope[0]})", scope[1]
    ).fetchone()
    return events is not None and bool(events < 5 * matches)


def _filters(
    query: SearchQuery, scope: Scope | None, as_set: bool, now: float
) -> tuple[str, list[Any]]:
    # Only what FTS5 holds is read for every match: the rowid and bm25(). Expired sessions
    # (few, and indexed) become a set of rowids, read once from search_docs' index on
    # session_id, and so does the scope when ``as_set``; the unary + keeps the planner from
    # handing a rowid set to FTS5 as lookups, one full MATCH each. Filters on an event's own
    # columns read its row (an EXISTS on the rowid), and only with those filters.
    where = [
        "search_text MATCH ?",
        "+search_text.rowid NOT IN (SELECT id FROM search_docs WHERE session_id IN"
        " (SELECT id FROM sessions WHERE expires_at <= ?))",
    ]
    args: list[Any] = [_match(query), now]
    own: list[str] = []
    if scope is not None and as_set:
        where.append(
            f"+search_text.rowid IN (SELECT id FROM search_docs WHERE session_id IN ({scope[0]}))"
        )
        args += scope[1]
    elif scope is not None:
        own.append(f"d.session_id IN ({scope[0]})")
    own_args = [] if scope is None or as_set else list(scope[1])
    if query.prefix:
        own.append("substr(d.session_id, 1, ?) = ?")
        own_args += [len(query.prefix), query.prefix]
    if query.since is not None:
        own.append("d.created_at >= ?")
        own_args.append(stamp(query.since))
    if query.until is not None:
        own.append("d.created_at < ?")
        own_args.append(stamp(query.until))
    if query.types is not None:
        own.append(f"d.event_type IN ({', '.join('?' * len(query.types))})")
        own_args += sorted(query.types)
    if own:
        where.append(
            "EXISTS (SELECT 1 FROM search_docs d WHERE d.id = search_text.rowid"
            f" AND {' AND '.join(own)})"
        )
    return " AND ".join(where), args + own_args


def search_rows(
    conn: sqlite3.Connection, query: SearchQuery, scope: Scope | None, now: float
) -> tuple[list[SearchHit], list[TieKey]]:
    """Up to ``query.limit + 1`` hits, best first, after the query's cursor, and their tie
    keys (the index rows' ids: among equal scores the newest row comes first).

    Args:
        conn: the connection (on its thread).
        query: the checked query.
        scope: the sessions ``where`` selects (a subquery of their ids, see ``ids_scope``),
            or None for no ``where``.
        now: the time expired sessions are left out at.

    Returns:
        The hits and their tie keys.

    Raises:
        InvalidInputError: the cursor is not one of this store's.
    """
    as_set = scope is not None and _scope_as_set(conn, query, scope)
    where, args = _filters(query, scope, as_set, now)
    if query.after is not None:
        after_id = query.tie_row()
        # bm25() again here costs a second call per match, but only on the pages after the
        # first; comparing the alias would be the same call.
        where += " AND (-bm25(search_text) < ? OR (-bm25(search_text) = ? AND rowid < ?))"
        args += [query.after[0], query.after[0], after_id]
    found = conn.execute(
        "SELECT d.id, d.session_id, d.event_id, d.event_type, d.created_at, d.user_id, m.score"
        " FROM (SELECT rowid AS id, -bm25(search_text) AS score FROM search_text"
        f" WHERE {where} ORDER BY score DESC, rowid DESC LIMIT ?) m"
        " JOIN search_docs d ON d.id = m.id ORDER BY m.score DESC, m.id DESC",
        [*args, query.limit + 1],
    ).fetchall()
    snippets = _snippets(conn, query, [row[0] for row in found])
    hits = [
        SearchHit(
            session_id=row[1],
            event_id=row[2],
            event_type=row[3],
            created_at=row[4],
            user_id=row[5],
            score=row[6],
            snippet=" ".join(snippets.get(row[0], "").split()),
        )
        for row in found
    ]
    return hits, [(row[0],) for row in found]


def _snippets(conn: sqlite3.Connection, query: SearchQuery, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = conn.execute(
        "SELECT rowid, snippet(search_text, 0, '[', ']', '…', 24) FROM search_text"
        " WHERE search_text MATCH ? AND rowid IN (SELECT value FROM json_each(?))",
        (_match(query), json.dumps(ids)),
    )
    return dict(rows.fetchall())
