"""The PostgreSQL store's tables, its ``write_batch`` function and the statements that use them.

All tables live in one schema (``llm_sessions`` unless told otherwise)::

    schema_version  the layout version of this schema (a newer one than ours is refused)
    sessions        id, parent_id, created_at, updated_at, expires_at
    children/tasks  (session_id, id), ordered by an identity column
    runs            (session_id, run_id) -> run JSON, ordered by first insertion
    state/properties (session_id, key) -> value JSON
    events          identity seq (the log order), session_id, event_id (unique per session), body
    quarantine      rows ``vacuum()`` moved aside: source table, the row as JSON, reason, time

Versions: 1 created the tables and the first ``write_batch``; 2 added ``quarantine`` (which a
version-1 ``vacuum()`` created on demand) and a ``write_batch`` that locks the session's row
before checking whether the session exists, so that the check and the write are atomic; 3 an
index of the removal records; 4 ``sessions.header_tag``, which ``write_batch`` gives a new random
value whenever it changes a header part, so that a refresh reads the children, tasks, runs,
state and properties only when they moved.

Values are stored as ``json`` (the text exactly as written, validated), not ``jsonb``. ``{s}`` in
the statements stands for the quoted schema name.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from ...exceptions import CorruptSessionData
from .._records import StoredHeader
from .._sync import WriteBatch
from ._cascade import UPGRADE_V7
from ._search import UPGRADE_V6
from ._summary_schema import UPGRADE_V5

logger = logging.getLogger("llm_sessions.storage")

SCHEMA_VERSION = 7
"""The table layout this version of llm_sessions writes and reads (5 added the summary
tables, see ``_summary_schema``; 6 the text index, see ``_search``; 7 replaced the foreign
keys by one trigger, see ``_cascade``)."""

TABLES = ("events", "state", "properties", "runs", "tasks", "children", "sessions")
"""The tables that hold sessions, each referencing ``sessions`` before it."""

_CREATE_V1 = """
CREATE TABLE {s}.sessions (
    id text COLLATE "C" PRIMARY KEY,
    parent_id text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    expires_at timestamptz
);
CREATE INDEX sessions_expires_at ON {s}.sessions (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE {s}.children (
    session_id text COLLATE "C" NOT NULL REFERENCES {s}.sessions (id) ON DELETE CASCADE,
    child_id text NOT NULL,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (session_id, child_id)
);
CREATE TABLE {s}.tasks (
    session_id text COLLATE "C" NOT NULL REFERENCES {s}.sessions (id) ON DELETE CASCADE,
    task_id text NOT NULL,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (session_id, task_id)
);
CREATE TABLE {s}.runs (
    session_id text COLLATE "C" NOT NULL REFERENCES {s}.sessions (id) ON DELETE CASCADE,
    run_id text NOT NULL,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    body json NOT NULL,
    PRIMARY KEY (session_id, run_id)
);
CREATE TABLE {s}.state (
    session_id text COLLATE "C" NOT NULL REFERENCES {s}.sessions (id) ON DELETE CASCADE,
    key text NOT NULL,
    value json NOT NULL,
    PRIMARY KEY (session_id, key)
);
CREATE TABLE {s}.properties (
    session_id text COLLATE "C" NOT NULL REFERENCES {s}.sessions (id) ON DELETE CASCADE,
    key text NOT NULL,
    value json NOT NULL,
    PRIMARY KEY (session_id, key)
);
CREATE TABLE {s}.events (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id text COLLATE "C" NOT NULL REFERENCES {s}.sessions (id) ON DELETE CASCADE,
    event_id text NOT NULL,
    body json NOT NULL,
    UNIQUE (session_id, event_id)
);
CREATE INDEX events_log ON {s}.events (session_id, seq);

"""

_UPGRADE_V2 = """
DROP FUNCTION IF EXISTS {s}.write_batch(
    text, timestamptz, timestamptz, text, float8, text[], text[], text[], text[], text[], text[],
    text[], text[], text[], text[], text[], text[], text[], text[], text[], text[], text[], boolean
);
CREATE TABLE IF NOT EXISTS {s}.quarantine (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id text NOT NULL,
    source text NOT NULL,
    row json NOT NULL,
    reason text NOT NULL,
    moved_at timestamptz NOT NULL DEFAULT now()
);
"""

NEW_TAG = "md5(random()::text || clock_timestamp()::text)"
"""A new header tag (SQL)."""

# Layout 2 created it; layout 4 replaced it with one that keeps the header tag. It is created
# with the current body whichever layout a schema is brought from.
_WRITE_BATCH = (
    """
CREATE OR REPLACE FUNCTION {s}.write_batch(
    p_id text, p_created timestamptz, p_updated timestamptz, p_parent text, p_ttl float8,
    p_children_add text[], p_children_del text[], p_tasks_add text[], p_tasks_del text[],
    p_run_ids text[], p_run_bodies text[], p_runs_del text[],
    p_state_keys text[], p_state_values text[], p_state_del text[],
    p_prop_keys text[], p_prop_values text[], p_props_del text[],
    p_event_ids text[], p_event_bodies text[], p_edit_ids text[], p_edit_bodies text[],
    p_parent_changed boolean, p_must_exist boolean
) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_live boolean;  -- NULL: no row; false: an expired row
    v_header boolean := p_parent_changed
        OR cardinality(p_children_add) > 0 OR cardinality(p_children_del) > 0
        OR cardinality(p_tasks_add) > 0 OR cardinality(p_tasks_del) > 0
        OR cardinality(p_run_ids) > 0 OR cardinality(p_runs_del) > 0
        OR cardinality(p_state_keys) > 0 OR cardinality(p_state_del) > 0
        OR cardinality(p_prop_keys) > 0 OR cardinality(p_props_del) > 0;
BEGIN
    -- Lock the session's row before deciding anything: a delete that has not committed yet
    -- makes this wait and then find no row, and a later delete waits for this transaction.
    -- So the check and the write are one step, and a stale writer cannot recreate a session
    -- a delete has removed.
    SELECT s.expires_at IS NULL OR s.expires_at > now() INTO v_live
    FROM {s}.sessions AS s WHERE s.id = p_id FOR UPDATE;
    IF p_must_exist AND v_live IS NOT TRUE THEN
        RETURN 0;  -- deleted or expired since this writer saw it: it stays gone
    END IF;
    IF NOT p_must_exist AND v_live THEN
        RETURN -1;  -- a new session object over a stored one
    END IF;
    IF NOT v_live THEN
        DELETE FROM {s}.sessions WHERE id = p_id;  -- expired: a save starts it afresh
    END IF;
    IF v_live IS NOT TRUE THEN
        -- DO NOTHING waits for a concurrent creator of this id and then sees its row.
        INSERT INTO {s}.sessions (id, parent_id, created_at, updated_at, expires_at, header_tag)
        VALUES (
            p_id, p_parent, p_created, p_updated, now() + p_ttl * interval '1 second', {new_tag}
        )
        ON CONFLICT (id) DO NOTHING;
        v_live := NOT FOUND;  -- another writer created the session since the check above
        IF v_live AND NOT p_must_exist THEN
            RETURN -1;
        END IF;
    END IF;
    IF v_live THEN  -- also a retry of a write whose outcome was unknown: merge into the row
        UPDATE {s}.sessions SET
            parent_id = CASE WHEN p_parent_changed THEN p_parent ELSE parent_id END,
            updated_at = p_updated,
            expires_at = COALESCE(now() + p_ttl * interval '1 second', expires_at),
            header_tag = CASE WHEN v_header THEN {new_tag} ELSE header_tag END
        WHERE id = p_id;
    END IF;
    IF cardinality(p_children_add) > 0 THEN
        INSERT INTO {s}.children (session_id, child_id)
        SELECT p_id, c.id FROM unnest(p_children_add) WITH ORDINALITY AS c(id, n) ORDER BY c.n
        ON CONFLICT DO NOTHING;
    END IF;
    IF cardinality(p_children_del) > 0 THEN
        DELETE FROM {s}.children WHERE session_id = p_id AND child_id = ANY (p_children_del);
    END IF;
    IF cardinality(p_tasks_add) > 0 THEN
        INSERT INTO {s}.tasks (session_id, task_id)
        SELECT p_id, t.id FROM unnest(p_tasks_add) WITH ORDINALITY AS t(id, n) ORDER BY t.n
        ON CONFLICT DO NOTHING;
    END IF;
    IF cardinality(p_tasks_del) > 0 THEN
        DELETE FROM {s}.tasks WHERE session_id = p_id AND task_id = ANY (p_tasks_del);
    END IF;
    IF cardinality(p_run_ids) > 0 THEN
        INSERT INTO {s}.runs (session_id, run_id, body)
        SELECT p_id, r.id, r.body::json
        FROM unnest(p_run_ids, p_run_bodies) WITH ORDINALITY AS r(id, body, n) ORDER BY r.n
        ON CONFLICT (session_id, run_id) DO UPDATE SET body = excluded.body;
    END IF;
    IF cardinality(p_runs_del) > 0 THEN
        DELETE FROM {s}.runs WHERE session_id = p_id AND run_id = ANY (p_runs_del);
    END IF;
    IF cardinality(p_state_keys) > 0 THEN
        INSERT INTO {s}.state (session_id, key, value)
        SELECT p_id, v.key, v.value::json FROM unnest(p_state_keys, p_state_values) AS v(key, value)
        ON CONFLICT (session_id, key) DO UPDATE SET value = excluded.value;
    END IF;
    IF cardinality(p_state_del) > 0 THEN
        DELETE FROM {s}.state WHERE session_id = p_id AND key = ANY (p_state_del);
    END IF;
    IF cardinality(p_prop_keys) > 0 THEN
        INSERT INTO {s}.properties (session_id, key, value)
        SELECT p_id, v.key, v.value::json FROM unnest(p_prop_keys, p_prop_values) AS v(key, value)
        ON CONFLICT (session_id, key) DO UPDATE SET value = excluded.value;
    END IF;
    IF cardinality(p_props_del) > 0 THEN
        DELETE FROM {s}.properties WHERE session_id = p_id AND key = ANY (p_props_del);
    END IF;
    IF cardinality(p_event_ids) > 0 THEN
        INSERT INTO {s}.events (session_id, event_id, body)
        SELECT p_id, e.id, e.body::json
        FROM unnest(p_event_ids, p_event_bodies) WITH ORDINALITY AS e(id, body, n) ORDER BY e.n
        ON CONFLICT (session_id, event_id) DO NOTHING;
    END IF;
    IF cardinality(p_edit_ids) > 0 THEN
        UPDATE {s}.events AS e SET body = u.body::json
        FROM unnest(p_edit_ids, p_edit_bodies) AS u(id, body)
        WHERE e.session_id = p_id AND e.event_id = u.id;
    END IF;
    RETURN 1;
END
$$;
"""
).replace("{new_tag}", NEW_TAG)

# Layout 4: the header tag, new for every stored session.
_UPGRADE_V4 = (
    f"""
ALTER TABLE {{s}}.sessions ADD COLUMN IF NOT EXISTS header_tag text;
UPDATE {{s}}.sessions SET header_tag = {NEW_TAG};
"""
    + _WRITE_BATCH
)

LIVE = "(expires_at IS NULL OR expires_at > now())"

# One statement (one snapshot, one round trip): the header as a JSON object in the first row,
# then one row per event in log order. Rows are cheaper to fetch than one 10,000-element array.
# ``READ_SINCE`` takes an event id ($2) and reads only the events stored after it, its header
# row's ``found`` saying whether it is an event of the session. They are two statements, not one
# with "$2 IS NULL OR ...": a prepared statement's generic plan cannot drop that branch, and
# would filter every event of the session instead of starting at the position in the index.
# ``READ_SINCE`` also takes the header tag the reader holds ($3): while it is still the
# session's, the header parts are left out (``unchanged``), and only the timestamps are read.
_READ = """
SELECT header, body, found FROM (
    SELECT 0 AS part, 0::bigint AS seq, json_build_object(
        'parent_id', s.parent_id,
        'created_at', s.created_at,
        'updated_at', s.updated_at,
        'header_tag', s.header_tag,
        'unchanged', {unchanged},
        'child_ids', CASE WHEN {unchanged} THEN NULL ELSE
            ARRAY(SELECT child_id FROM {{s}}.children WHERE session_id = s.id ORDER BY seq) END,
        'task_ids', CASE WHEN {unchanged} THEN NULL ELSE
            ARRAY(SELECT task_id FROM {{s}}.tasks WHERE session_id = s.id ORDER BY seq) END,
        'runs', CASE WHEN {unchanged} THEN NULL ELSE
            ARRAY(SELECT body::text FROM {{s}}.runs WHERE session_id = s.id ORDER BY seq) END,
        'state', CASE WHEN {unchanged} THEN NULL ELSE
            (SELECT json_object_agg(key, value) FROM {{s}}.state WHERE session_id = s.id) END,
        'properties', CASE WHEN {unchanged} THEN NULL ELSE
            (SELECT json_object_agg(key, value) FROM {{s}}.properties WHERE session_id = s.id)
            END
    )::text AS header, NULL::json AS body, {found} AS found
    FROM {{s}}.sessions AS s
    WHERE s.id = $1 AND (s.expires_at IS NULL OR s.expires_at > now())
    UNION ALL
    SELECT 1, e.seq, NULL, e.body, NULL
    FROM {{s}}.events AS e
    WHERE e.session_id = $1 AND EXISTS (
        SELECT FROM {{s}}.sessions AS s
        WHERE s.id = $1 AND (s.expires_at IS NULL OR s.expires_at > now())
    ){since}
) AS log
ORDER BY part, seq
"""
READ = _READ.format(found="TRUE", since="", unchanged="FALSE")
READ_SINCE = _READ.format(
    found="EXISTS (SELECT FROM {s}.events WHERE session_id = $1 AND event_id = $2)",
    since=" AND e.seq > (SELECT seq FROM {s}.events WHERE session_id = $1 AND event_id = $2)",
    unchanged="COALESCE(s.header_tag = $3::text, FALSE)",
)

# Layout 3: the removal records of a session found through an index of their own (partial, so
# it holds only them), instead of by looking through every event of the session: a page read
# from the end of a 100,000-event log no longer costs a pass over the whole log.
_UPGRADE_V3 = """
CREATE INDEX IF NOT EXISTS events_removals ON {s}.events (session_id, seq)
    WHERE starts_with(event_id, '~removed~');
"""

# A page of the log in one statement: a first row telling whether the session is live and the
# positions (seq) of the cursors ($2 after, $3 before), then the page's rows ($4 limit, NULL
# for none). ``{order}`` is ASC, or DESC for a page read from the end; ``{bounds}`` holds the
# conditions of the cursors given (see ``page_bounds``; as with ``READ_SINCE``, a generic plan
# needs them spelt out to start at a cursor's position). ``{removals}`` is empty, or
# ``PAGE_REMOVALS``: the session's removal records too (found through ``events_removals``),
# in the same snapshot and round trip.
READ_PAGE = """
WITH cursors AS (
    SELECT EXISTS (SELECT FROM {s}.sessions WHERE id = $1 AND {live}) AS live,
        (SELECT seq FROM {s}.events WHERE session_id = $1 AND event_id = $2) AS after_seq,
        (SELECT seq FROM {s}.events WHERE session_id = $1 AND event_id = $3) AS before_seq
)
SELECT 0 AS part, NULL::bigint AS seq, NULL::text AS body, live, after_seq, before_seq
FROM cursors
UNION ALL
(SELECT 1, e.seq, e.body::text, NULL, NULL, NULL FROM {s}.events AS e, cursors AS c
 WHERE c.live AND e.session_id = $1{bounds}
 ORDER BY e.seq {order} LIMIT $4){removals}
"""
PAGE_REMOVALS = """
UNION ALL
SELECT 2, e.seq, e.body::text, NULL, NULL, NULL FROM {s}.events AS e, cursors AS c
WHERE c.live AND e.session_id = $1 AND starts_with(e.event_id, '~removed~')"""


def page_bounds(after: bool, before: bool) -> str:
    """``READ_PAGE``'s conditions for the cursors given."""
    return (" AND e.seq > c.after_seq" if after else "") + (
        " AND e.seq < c.before_seq" if before else ""
    )


WRITE = "SELECT {s}.write_batch(" + ", ".join(f"${n}" for n in range(1, 25)) + ")"
"""One save: 1 when written, 0 if the session had to exist and is gone, -1 if it had to be new
and the id is taken."""


async def installed_version(connection: Any, schema: str) -> int:
    """The layout version of ``schema`` (0 if it has no ``schema_version`` table)."""
    # Ask pg_tables (read with this statement's snapshot), not to_regclass: name lookups go
    # through a cache that waiting on an advisory lock does not refresh, so it could still
    # miss a table another process created meanwhile.
    exists = await connection.fetchval(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_tables "
        "WHERE schemaname = $1 AND tablename = 'schema_version')",
        schema,
    )
    if not exists:
        return 0
    version = await connection.fetchval(f'SELECT max(version) FROM "{schema}".schema_version')
    return int(version or 0)


async def migrate(connection: Any, schema: str, version: int) -> None:
    """Bring ``schema`` from layout ``version`` (0: nothing there) to ``SCHEMA_VERSION``.

    Runs in the caller's transaction, under its lock: each step is applied once.
    """
    q = f'"{schema}"'
    if version < 1:
        await connection.execute(f"CREATE SCHEMA IF NOT EXISTS {q}")
        await connection.execute(_CREATE_V1.format(s=q))
        await connection.execute(f"CREATE TABLE {q}.schema_version (version integer NOT NULL)")
        await connection.execute(f"INSERT INTO {q}.schema_version (version) VALUES (1)")
    if version < 2:
        await connection.execute(_UPGRADE_V2.format(s=q))
    if version < 3:
        await connection.execute(_UPGRADE_V3.format(s=q))
    if version < 4:
        await connection.execute(_UPGRADE_V4.format(s=q))
    if version < 5:
        await connection.execute(UPGRADE_V5.format(s=q))
    if version < 6:
        await connection.execute(UPGRADE_V6.format(s=q))
    if version < 7:
        await connection.execute(UPGRADE_V7.format(s=q))
    await connection.execute(f"UPDATE {q}.schema_version SET version = $1", SCHEMA_VERSION)


def write_args(batch: WriteBatch, ttl: float | None) -> tuple[Any, ...]:
    """``WRITE``'s arguments for a batch, in the order of ``write_batch``'s parameters."""
    header = batch.header
    return (
        batch.session_id,
        header.created_at,
        header.updated_at,
        header.parent_id,
        ttl,
        header.children_added,
        header.children_removed,
        header.tasks_added,
        header.tasks_removed,
        list(header.runs_upserted),
        list(header.runs_upserted.values()),
        header.runs_removed,
        list(header.state_set),
        list(header.state_set.values()),
        header.state_removed,
        list(header.properties_set),
        list(header.properties_set.values()),
        header.properties_removed,
        [event_id for event_id, _ in batch.appended],
        [body for _, body in batch.appended],
        [event_id for event_id, _ in batch.updated],
        [body for _, body in batch.updated],
        header.parent_changed,
        batch.must_exist,
    )


def stored_header(text: str, location: str) -> tuple[StoredHeader, str | None, bool]:
    """The header ``READ`` returns in its first row, as the store contract takes it, with its
    tag and whether the reader's tag was still current (the parts are then left empty)."""
    try:
        fields = json.loads(text)
        header = StoredHeader(
            created_at=datetime.fromisoformat(fields["created_at"]),
            updated_at=datetime.fromisoformat(fields["updated_at"]),
            parent_id=fields["parent_id"],
            child_ids=fields["child_ids"] or [],
            task_ids=fields["task_ids"] or [],
            runs=fields["runs"] or [],
            state=fields["state"] or {},
            properties=fields["properties"] or {},
        )
        return header, fields["header_tag"], fields["unchanged"] is True
    except (KeyError, TypeError, ValueError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
        logger.warning("Unreadable session header at %s: %s", location, reason)
        raise CorruptSessionData(location, reason) from exc
