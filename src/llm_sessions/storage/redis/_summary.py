"""The Redis store's summary hash: kept by the write script, read by listings and totals.

Each session has a ``P{id}:summary`` hash (in the session's slot) that the write script updates
in the same call as the events::

    events, tokens, cost    counters (cost as ``%.17g``: read back it is the same float)
    errors                  "1" once a tool call failed
    stale                   "1" when the counters must be recounted from the log
    rev                     bumped by every write (a recount writes only over the one it read)
    m:<model>               "<events> <tokens> <cost> <priced 1|0>" per model

The parent, times and properties (with ``user_id`` and ``root_id``) are read from the
session's ``meta`` and ``props`` keys, which the same script writes. A save that removes or
edits events, that finds some of its events stored already (a retry), or that appends to a
session stored before the hash existed, marks it ``stale``: the store recounts it from a full
load before it next answers a listing, which also upgrades older databases in place.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ...models._session_metadata import split_reserved
from .._summaries import ModelTotals, SessionSummary
from .._summary_delta import SummaryDelta

__all__ = [
    "RECOUNT_SCRIPT",
    "SUMMARY_LUA",
    "StoredSummary",
    "recount_args",
    "stored_summary",
    "summary_args",
]

# A function of the write script: adds the delta in ARGV[at...] (see ``summary_args``) to the
# summary hash. ``added`` is how many appended events were new, ``had_rows`` whether the log
# held rows before this write. Costs are added in event order, as a full load adds them.
SUMMARY_LUA = """
local function model_row(field)
  local row = redis.call('HGET', summary, field)
  if not row then return 0, 0, 0, '1' end
  local e, t, c, p = string.match(row, '^(%S+) (%S+) (%S+) (%S+)$')
  return tonumber(e), tonumber(t), tonumber(c), p
end
local function keep_summary(at, added, had_rows)
  if ARGV[at] == '' then return end
  local fresh = redis.call('EXISTS', summary) == 0
  local stale = ARGV[at + 2] == '1' or added ~= counts[11] or (fresh and had_rows)
    or redis.call('HGET', summary, 'stale') == '1'
  local tokens = tonumber(redis.call('HGET', summary, 'tokens')) or 0
  local cost = tonumber(redis.call('HGET', summary, 'cost')) or 0
  for j = at + 4, at + 3 + tonumber(ARGV[at + 3]) * 3, 3 do
    local field = 'm:' .. ARGV[j]
    local e, t, c, p = model_row(field)
    local used = tonumber(ARGV[j + 1])
    tokens = tokens + used
    if ARGV[j + 2] ~= '' then
      c = c + tonumber(ARGV[j + 2])
      cost = cost + tonumber(ARGV[j + 2])
    elseif used ~= 0 then
      p = '0'
    end
    redis.call('HSET', summary, field,
      string.format('%d %d %.17g %s', e + 1, t + used, c, p))
  end
  redis.call('HINCRBY', summary, 'events', tonumber(ARGV[at]))
  redis.call('HSET', summary, 'tokens', string.format('%d', tokens),
    'cost', string.format('%.17g', cost), 'stale', stale and '1' or '0')
  if ARGV[at + 1] == '1' then redis.call('HSET', summary, 'errors', '1') end
  redis.call('HINCRBY', summary, 'rev', 1)
end
"""

# KEYS: the session's meta and summary keys. ARGV: the revision read ("" = no hash), events,
# tokens, cost, errors, then per model its field and row. Writes the recounted summary over
# the hash if it is still at that revision and the session still exists; 1 if written.
RECOUNT_SCRIPT = """
local meta, summary = KEYS[1], KEYS[2]
if redis.call('EXISTS', meta) == 0 then return 0 end
if (redis.call('HGET', summary, 'rev') or '') ~= ARGV[1] then return 0 end
redis.call('DEL', summary)
redis.call('HSET', summary, 'events', ARGV[2], 'tokens', ARGV[3], 'cost', ARGV[4],
  'errors', ARGV[5], 'stale', '0', 'rev', ARGV[1] == '' and '0' or ARGV[1])
for j = 6, #ARGV, 2 do redis.call('HSET', summary, ARGV[j], ARGV[j + 1]) end
local ttl = redis.call('PTTL', meta)
if ttl > 0 then redis.call('PEXPIRE', summary, ttl) end
return 1
"""


def summary_args(delta: SummaryDelta | None) -> list[str]:
    """The write script's summary arguments: events, errors, recount, the number of usages,
    then (model, tokens, cost or "") per usage; one "" when the store keeps no summary."""
    if delta is None:
        return [""]
    args = [str(delta.events), _flag(delta.has_errors), _flag(delta.recount)]
    args.append(str(len(delta.usages)))
    for model, tokens, cost in delta.usages:
        args += [model, str(tokens), "" if cost is None else repr(cost)]
    return args


def recount_args(revision: str, summary: SessionSummary) -> list[str]:
    """``RECOUNT_SCRIPT``'s arguments to write ``summary`` over the hash at ``revision``."""
    args = [
        revision,
        str(summary.event_count),
        str(summary.total_tokens),
        _number(summary.total_cost_usd),
        _flag(summary.has_errors),
    ]
    for name, usage in summary.model_usage.items():
        row = f"{usage.events} {usage.tokens} {_number(usage.cost_usd)} {_flag(usage.priced)}"
        args += ["m:" + name, row]
    return args


class StoredSummary:
    """One session's summary as read, with what a recount needs."""

    __slots__ = ("revision", "stale", "summary")

    def __init__(self, summary: SessionSummary, revision: str, stale: bool) -> None:
        self.summary = summary
        self.revision = revision
        self.stale = stale


def stored_summary(
    session_id: str, meta: dict[str, str], props: dict[str, str], counts: dict[str, str]
) -> StoredSummary:
    """The summary of a session from its ``meta``, ``props`` and ``summary`` hashes (decoded
    to text); the root is the one the session was created with, else its own id (the caller
    finds the roots of the others through their parents).

    Raises:
        ValueError: a stored value is not readable (the caller recounts the session).
    """
    properties: dict[str, Any] = {key: json.loads(value) for key, value in props.items()}
    owner, own = split_reserved(properties)
    models = {
        field[2:]: _model_totals(row) for field, row in counts.items() if field.startswith("m:")
    }
    # Every value is built with its field's type here: validating them again would double the
    # cost of a listing that reads thousands of rows.
    summary = SessionSummary.model_construct(
        id=session_id,
        parent_id=meta.get("parent_id"),
        root_id=owner["root_id"] or session_id,
        user_id=owner["user_id"],
        created_at=datetime.fromisoformat(meta["created_at"]),
        updated_at=datetime.fromisoformat(meta["updated_at"]),
        event_count=int(counts.get("events", "0")),
        total_tokens=int(counts.get("tokens", "0")),
        total_cost_usd=float(counts.get("cost", "0")),
        unpriced_models=sorted(name for name, row in models.items() if not row.priced),
        models=sorted(models),
        has_errors=counts.get("errors") == "1",
        properties=own,
        model_usage=dict(sorted(models.items())),
    )
    stale = not counts or counts.get("stale") == "1"
    return StoredSummary(summary, counts.get("rev", ""), stale)


def _model_totals(row: str) -> ModelTotals:
    events, tokens, cost, priced = row.split(" ")
    return ModelTotals.model_construct(
        events=int(events), tokens=int(tokens), cost_usd=float(cost), priced=priced == "1"
    )


def _flag(value: bool) -> str:
    return "1" if value else "0"


def _number(value: float) -> str:
    return repr(float(value))
