"""The PostgreSQL store's layout 7: a session's rows go with it through one statement-level
trigger instead of foreign keys.

Up to layout 6 every table holding a session's rows referenced ``sessions`` (and
``summary_models`` ``summaries``) with ``ON DELETE CASCADE``. PostgreSQL runs such a key's
trigger once per deleted row, each with a query of its own, so an erasure of 10,000 sessions
ran 90,000 of them. Layout 7 drops those keys and adds ``drop_session_rows``: an ``AFTER
DELETE ... FOR EACH STATEMENT`` trigger on ``sessions`` that deletes the rows of every session
the statement deleted, one set-based statement per table. Every delete of sessions (``delete``,
``prune_expired``, a save over an expired session, an erasure) goes through it. Nothing is
lost by dropping the keys: ``write_batch`` locks the session's row and checks it exists before
it writes any other row of it.
"""

from __future__ import annotations

__all__ = ["CASCADED", "UPGRADE_V7"]

CASCADED = (
    ("summary_models", "session_id"),
    ("summaries", "id"),
    ("search_docs", "session_id"),
    ("events", "session_id"),
    ("state", "session_id"),
    ("properties", "session_id"),
    ("runs", "session_id"),
    ("tasks", "session_id"),
    ("children", "session_id"),
)
"""The tables (and their session column) whose rows the trigger deletes with their session."""

_DELETES = "\n".join(
    f"    DELETE FROM {{s}}.{table} WHERE {column} = ANY (v_ids);" for table, column in CASCADED
)

# The ids go through an array (not a join with the transition table, which has no statistics):
# the deletes then use each table's session index whether one session went or thousands.
UPGRADE_V7 = (
    """
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT conrelid::regclass AS tab, conname FROM pg_constraint
        WHERE contype = 'f'
            AND confrelid IN ('{s}.sessions'::regclass, '{s}.summaries'::regclass)
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tab, r.conname);
    END LOOP;
END $$;
CREATE OR REPLACE FUNCTION {s}.drop_session_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_ids text[];
BEGIN
    SELECT array_agg(id) INTO v_ids FROM gone;
    IF v_ids IS NULL THEN
        RETURN NULL;
    END IF;
"""
    + _DELETES
    + """
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS sessions_cascade ON {s}.sessions;
CREATE TRIGGER sessions_cascade AFTER DELETE ON {s}.sessions
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION {s}.drop_session_rows();
"""
)
"""Layout 7 (see the module's docstring)."""
