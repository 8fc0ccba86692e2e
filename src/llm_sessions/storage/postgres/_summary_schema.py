"""The PostgreSQL store's summary tables (layout 5) and the function that keeps them.

``keep_summary`` runs in the statement that calls ``write_batch`` (``WRITE``), so a save's
events and its summary change commit together. It adds the save's delta (see
``_summary_delta``): counts, tokens, and costs one event at a time, as the session's own total
adds them. A save that removes or edits events, or a retry whose first attempt may have landed,
marks the row stale instead; the store recounts it before its next listing.
"""

from __future__ import annotations

from typing import Any

from .._summary_delta import owner_keys_changed
from .._sync import WriteBatch

__all__ = ["SUMMARY_TABLES", "UPGRADE_V5", "WRITE", "summary_args"]

SUMMARY_TABLES = ("summary_models", "summaries")
"""The summary tables, each referencing the one after it (and ``sessions``)."""

_TABLES = """
CREATE TABLE {s}.summaries (
    id text COLLATE "C" PRIMARY KEY REFERENCES {s}.sessions (id) ON DELETE CASCADE,
    parent_id text,
    root_id text NOT NULL,
    user_id text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    event_count bigint NOT NULL DEFAULT 0,
    total_tokens bigint NOT NULL DEFAULT 0,
    total_cost_usd float8 NOT NULL DEFAULT 0,
    has_errors boolean NOT NULL DEFAULT false,
    stale boolean NOT NULL DEFAULT false,
    revision bigint NOT NULL DEFAULT 0
);
CREATE TABLE {s}.summary_models (
    session_id text COLLATE "C" NOT NULL REFERENCES {s}.summaries (id) ON DELETE CASCADE,
    model text NOT NULL,
    events bigint NOT NULL,
    tokens bigint NOT NULL,
    cost_usd float8 NOT NULL,
    priced boolean NOT NULL,
    PRIMARY KEY (session_id, model)
);
CREATE INDEX summaries_updated ON {s}.summaries (updated_at, id);
CREATE INDEX summaries_created ON {s}.summaries (created_at, id);
CREATE INDEX summaries_cost ON {s}.summaries (total_cost_usd, id);
CREATE INDEX summaries_tokens ON {s}.summaries (total_tokens, id);
CREATE INDEX summaries_user ON {s}.summaries (user_id, updated_at, id);
CREATE INDEX summaries_root ON {s}.summaries (root_id);
CREATE INDEX summaries_stale ON {s}.summaries (id) WHERE stale;
CREATE INDEX summary_models_model ON {s}.summary_models (model, session_id);
INSERT INTO {s}.summaries (id, parent_id, root_id, created_at, updated_at, stale)
SELECT id, parent_id, coalesce(parent_id, id), created_at, updated_at, true FROM {s}.sessions;
"""

_KEEP_SUMMARY = """
CREATE OR REPLACE FUNCTION {s}.keep_summary(
    p_outcome integer, p_id text, p_events integer, p_models text[], p_tokens bigint[],
    p_costs float8[], p_errors boolean, p_stale boolean, p_owner boolean
) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_parent text; v_created timestamptz; v_updated timestamptz;
    v_user text; v_root text; v_cost float8; v_tokens bigint; v_found boolean;
BEGIN
    IF p_outcome <> 1 OR p_events IS NULL THEN
        RETURN p_outcome;
    END IF;
    SELECT parent_id, created_at, updated_at INTO v_parent, v_created, v_updated
    FROM {s}.sessions WHERE id = p_id;
    SELECT user_id, root_id, total_cost_usd, total_tokens INTO v_user, v_root, v_cost, v_tokens
    FROM {s}.summaries WHERE id = p_id FOR UPDATE;
    v_found := FOUND;
    IF p_owner OR NOT v_found THEN
        SELECT value #>> '{{}}' INTO v_user FROM {s}.properties
        WHERE session_id = p_id AND key = 'llm_sessions.user_id';
        SELECT value #>> '{{}}' INTO v_root FROM {s}.properties
        WHERE session_id = p_id AND key = 'llm_sessions.root_id';
        IF v_root IS NULL THEN
            v_root := coalesce(
                (SELECT root_id FROM {s}.summaries WHERE id = v_parent), v_parent, p_id);
        END IF;
    END IF;
    INSERT INTO {s}.summaries (id, parent_id, root_id, user_id, created_at, updated_at)
    VALUES (p_id, v_parent, v_root, v_user, v_created, v_updated)
    ON CONFLICT (id) DO UPDATE SET parent_id = excluded.parent_id,
        root_id = excluded.root_id, user_id = excluded.user_id,
        created_at = excluded.created_at, updated_at = excluded.updated_at;
    v_cost := coalesce(v_cost, 0);
    v_tokens := coalesce(v_tokens, 0);
    FOR i IN 1 .. coalesce(array_length(p_models, 1), 0) LOOP
        v_tokens := v_tokens + p_tokens[i];
        IF p_costs[i] IS NOT NULL THEN
            v_cost := v_cost + p_costs[i];
        END IF;
        INSERT INTO {s}.summary_models AS m VALUES (
            p_id, p_models[i], 1, p_tokens[i], coalesce(p_costs[i], 0),
            NOT (p_costs[i] IS NULL AND p_tokens[i] > 0))
        ON CONFLICT (session_id, model) DO UPDATE SET events = m.events + 1,
            tokens = m.tokens + excluded.tokens, cost_usd = m.cost_usd + excluded.cost_usd,
            priced = m.priced AND excluded.priced;
    END LOOP;
    UPDATE {s}.summaries SET event_count = event_count + p_events, total_tokens = v_tokens,
        total_cost_usd = v_cost, has_errors = has_errors OR p_errors,
        stale = stale OR p_stale, revision = revision + 1
    WHERE id = p_id;
    RETURN p_outcome;
END
$$;
"""

UPGRADE_V5 = _TABLES + _KEEP_SUMMARY
"""Layout 5: the summary tables, every stored session's row marked stale (counted from its
log before the first listing), and ``keep_summary``."""

WRITE = (
    "SELECT {s}.keep_summary({s}.write_batch("
    + ", ".join(f"${n}" for n in range(1, 25))
    + "), $1, "
    + ", ".join(f"${n}" for n in range(25, 32))
    + ")"
)


def summary_args(batch: WriteBatch) -> tuple[Any, ...]:
    """``WRITE``'s arguments after ``write_batch``'s: the batch's summary delta (none when the
    store keeps no summary rows)."""
    delta = batch.summary
    if delta is None:
        return (None, [], [], [], False, False, False)
    changes = batch.header
    return (
        delta.events,
        [model for model, _, _ in delta.usages],
        [tokens for _, tokens, _ in delta.usages],
        [cost for _, _, cost in delta.usages],
        delta.has_errors,
        delta.recount or batch.must_exist is None,
        batch.must_exist is not True or changes.parent_changed or owner_keys_changed(changes),
    )
