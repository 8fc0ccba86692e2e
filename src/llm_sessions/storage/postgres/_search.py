"""The PostgreSQL store's text index (layout 6): a ``tsvector`` per event, with a GIN index.

``search_docs`` holds one row per indexed event: its session, id, type, time and user, its
text and the text's ``tsvector`` (English configuration, so words match by their stem). A save
writes its index changes in the statement that writes its events (``keep_index`` wraps
``keep_summary`` and ``write_batch``, see ``WRITE``), so both commit together. Deleting,
expiring-then-rewriting or pruning a session drops its rows (through ``sessions``' trigger, see
``_cascade``; ``delete_session_index`` drops them explicitly). A search ORs one
``websearch_to_tsquery`` per word or quoted phrase, ranks with ``ts_rank`` and marks the
page's matches with ``ts_headline``. Every match is read from the table (the GIN index does not
hold word order, so a phrase is checked there) and ranked; ``ts_rank`` costs about a fifth of
``ts_rank_cd``, whose cover density walks each match's positions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...models._session_metadata import USER_ID_PROPERTY
from .._records import StoredPage, decode_events
from .._search_index import IndexChanges, IndexRow, index_row
from .._search_models import SearchHit
from .._search_query import SearchQuery
from ._summary_schema import WRITE as WRITE_WITH_SUMMARY

if TYPE_CHECKING:
    from ...models._session import Session

__all__ = [
    "UPGRADE_V6",
    "WRITE",
    "WRITE_UNREAD",
    "backfill_index",
    "delete_session_index",
    "index_args",
    "search_rows",
]

UPGRADE_V6 = """
CREATE TABLE IF NOT EXISTS {s}.search_docs (
    session_id text COLLATE "C" NOT NULL REFERENCES {s}.sessions (id) ON DELETE CASCADE,
    event_id text NOT NULL,
    event_type text NOT NULL,
    created_at timestamptz NOT NULL,
    user_id text,
    body text NOT NULL,
    tsv tsvector NOT NULL,
    PRIMARY KEY (session_id, event_id)
);
CREATE INDEX IF NOT EXISTS search_docs_tsv ON {s}.search_docs USING gin (tsv);
CREATE OR REPLACE FUNCTION {s}.keep_index(
    p_outcome integer, p_id text, p_drop text[], p_ids text[], p_types text[],
    p_times text[], p_users text[], p_texts text[]
) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
    IF p_outcome <> 1 THEN
        RETURN p_outcome;
    END IF;
    IF cardinality(p_drop) > 0 THEN
        DELETE FROM {s}.search_docs WHERE session_id = p_id AND event_id = ANY (p_drop);
    END IF;
    IF cardinality(p_ids) > 0 THEN
        INSERT INTO {s}.search_docs
            (session_id, event_id, event_type, created_at, user_id, body, tsv)
        SELECT p_id, r.id, r.kind, r.at::timestamptz, r.who, r.body,
            to_tsvector('english', r.body)
        FROM unnest(p_ids, p_types, p_times, p_users, p_texts) AS r(id, kind, at, who, body)
        ON CONFLICT (session_id, event_id) DO NOTHING;
    END IF;
    RETURN p_outcome;
END
$$;
"""
"""Layout 6: the index table, its GIN index and ``keep_index`` (the store then indexes the
stored events, see ``backfill_index``)."""

WRITE = (
    "SELECT {s}.keep_index("
    + WRITE_WITH_SUMMARY.removeprefix("SELECT ")
    + (", $1, $32, $33, $34, $35, $36, $37)")
)
"""One save: the events, the summary and the index in one statement."""

WRITE_UNREAD = WRITE.replace(
    "$36,",
    "array_fill((SELECT value #>> '{{}}' FROM {s}.properties WHERE session_id = $1"
    f" AND key = '{USER_ID_PROPERTY}'), ARRAY[cardinality($36::text[])]),",
)
"""``WRITE`` for a save that did not read the session (``WriteBatch.header_unread``): its
index rows take the owner the session's stored properties name, as a read would have."""

_INSERT = """
INSERT INTO {s}.search_docs (session_id, event_id, event_type, created_at, user_id, body, tsv)
SELECT $1, r.id, r.kind, r.at::timestamptz, r.who, r.body, to_tsvector('english', r.body)
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
    AS r(id, kind, at, who, body)
ON CONFLICT (session_id, event_id) DO NOTHING
"""


def _columns(rows: list[IndexRow]) -> tuple[list[Any], ...]:
    return (
        [row.event_id for row in rows],
        [row.event_type for row in rows],
        [row.created_at for row in rows],
        [row.user_id for row in rows],
        [row.text for row in rows],
    )


def index_args(changes: IndexChanges | None) -> tuple[Any, ...]:
    """``WRITE``'s arguments after the summary's: the ids to drop, then the rows to add."""
    if changes is None:
        return ([], [], [], [], [], [])
    return (changes.dropped, *_columns(changes.rows))


async def delete_session_index(connection: Any, schema: str, session_id: str) -> None:
    """Drop every index row of one session (deleting the session's row does it too)."""
    await connection.execute(
        f'DELETE FROM "{schema}".search_docs WHERE session_id = $1', session_id
    )


async def backfill_index(
    connection: Any, schema: str, session_class: type[Session[Any]], cipher: Any
) -> None:
    """Index every stored event (the upgrade to layout 6, in its transaction)."""
    q = f'"{schema}"'
    insert = _INSERT.format(s=q)
    owners = await connection.fetch(
        f"SELECT s.id, p.value::text AS user_id FROM {q}.sessions s LEFT JOIN {q}.properties p"
        " ON p.session_id = s.id AND p.key = $1",
        USER_ID_PROPERTY,
    )
    for session_id, user_json in owners:
        bodies = await connection.fetch(
            f"SELECT body::text FROM {q}.events WHERE session_id = $1 ORDER BY seq", session_id
        )
        location = f'"{schema}".events session_id={session_id!r}'
        rows = cipher.open_page(StoredPage([b[0] for b in bodies], location)).events
        owner = user_json[1:-1] if user_json and user_json.startswith('"') else None
        found = (index_row(e, owner) for e in decode_events(session_class, rows, location))
        kept = [row for row in found if row is not None]
        if kept:
            await connection.execute(insert, session_id, *_columns(kept))


class _Args(list[Any]):
    def __call__(self, value: Any, cast: str) -> str:
        self.append(value)
        return f"${len(self)}::{cast}"


def _tsquery(query: SearchQuery, args: _Args) -> str:
    """One ``websearch_to_tsquery`` per word or phrase (quoted, so nothing is syntax), or-ed."""
    parts = [
        f"websearch_to_tsquery('english', {args(chr(34) + ' '.join(c) + chr(34), 'text')})"
        for c in query.clauses
    ]
    return " || ".join(parts)


def _filters(query: SearchQuery, scope: list[str] | None, args: _Args, q: str) -> str:
    # Expired sessions (few, and indexed) are looked up once, not each hit's session.
    where = [
        "d.tsv @@ q.query",
        f"d.session_id NOT IN (SELECT id FROM {q}.sessions WHERE expires_at <= now())",
    ]
    if query.prefix:
        where.append(
            f"left(d.session_id, {args(len(query.prefix), 'integer')}) = "
            f"{args(query.prefix, 'text')}"
        )
    if scope is not None:
        where.append(f"d.session_id = ANY ({args(scope, 'text[]')})")
    if query.since is not None:
        where.append(f"d.created_at >= {args(query.since, 'timestamptz')}")
    if query.until is not None:
        where.append(f"d.created_at < {args(query.until, 'timestamptz')}")
    if query.types is not None:
        where.append(f"d.event_type = ANY ({args(sorted(query.types), 'text[]')})")
    return " AND ".join(where)


async def search_rows(
    connection: Any, schema: str, query: SearchQuery, scope: list[str] | None
) -> list[SearchHit]:
    """Up to ``query.limit + 1`` hits, best first, after the query's cursor.

    Args:
        connection: a pool connection.
        schema: the store's schema.
        query: the checked query.
        scope: the ids of the sessions ``where`` selects, or None for no ``where``.

    Returns:
        The hits.
    """
    q = f'"{schema}"'
    args = _Args()
    tsquery = _tsquery(query, args)
    where = _filters(query, scope, args, q)
    page = ""
    if query.after is not None:
        session_id, event_id = query.tie_ids()
        s = args(query.after[0], "float8")
        i, e = args(session_id, "text"), args(event_id, "text")
        page = f"WHERE score < {s} OR (score = {s} AND (session_id, event_id) > ({i}, {e}))"
    limit = args(query.limit + 1, "integer")
    sql = f"""
    WITH q AS (SELECT {tsquery} AS query)
    SELECT p.*, ts_headline('english', d.body, q.query,
        'StartSel=[, StopSel=], MaxWords=24, MinWords=8')
    FROM (
        SELECT * FROM (
            SELECT d.session_id, d.event_id, d.event_type, d.created_at, d.user_id,
                ts_rank(d.tsv, q.query)::float8 AS score
            FROM {q}.search_docs d, q
            WHERE {where}
        ) m {page}
        ORDER BY score DESC, session_id, event_id LIMIT {limit}
    ) p JOIN {q}.search_docs d ON d.session_id = p.session_id AND d.event_id = p.event_id, q
    ORDER BY p.score DESC, p.session_id, p.event_id
    """
    found = await connection.fetch(sql, *args)
    return [
        SearchHit(
            session_id=row[0],
            event_id=row[1],
            event_type=row[2],
            created_at=row[3],
            user_id=row[4],
            score=row[5],
            snippet=" ".join(row[6].split()),
        )
        for row in found
    ]
