"""``usage`` on one Redis server, added up by a script beside the data.

A usage rollup by any of ``user_id``, ``day``, ``month`` and ``model``, filtered by nothing but
the user, the time range and an id prefix, is what the inspector and most dashboards ask. For
it the store reads the window's sessions from the index (their ids and ``updated_at`` scores)
and hands them, a batch at a time, to ``USAGE_SCRIPT``, which reads each session's summary
hash and user where they are and returns totals per day, user and model: a few hundred bytes
instead of three hashes per session, and no summary built in Python. It counts what
``usage_in`` counts over the same rows (the day is the UTC day of ``updated_at``, the score).

A session whose keys are gone (deleted or expired since it was indexed) is reported, to be
taken out of the index; one whose summary hash is missing, marked stale or unreadable makes
the caller answer the slow way (which recounts it). A Cluster has no script that reaches every
session's slot: it always answers the slow way.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from ...models._session_metadata import USER_ID_PROPERTY
from .._fleet_query import UsageQuery, UsageRow, usage_rows_from
from ._client import _text

__all__ = ["USAGE_SCRIPT", "UsageTally", "day_of", "tally_answers", "tally_user"]

_DAY_MICROS = 86_400_000_000
_EPOCH_DAY = date(1970, 1, 1)
_GROUPS = frozenset({"user_id", "day", "month", "model"})

# ARGV: the key prefix, "1" to split by model, the user to keep ("" any, "-" none, else "="
# and the id), then per session its id and its day (days since 1970). Returns the gone ids,
# the ids to count the slow way, and per cell its day, user ("" none, else "=" and the id),
# model ("" none, else "=" and the name), sessions, events, tokens, cost and unpriced models.
USAGE_SCRIPT = (
    """
local prefix, by_model, wanted = ARGV[1], ARGV[2] == '1', ARGV[3]
local gone, slow, cells, order = {}, {}, {}, {}
local function cell(day, user, model)
  local key = day .. '\\31' .. user .. '\\31' .. model
  local found = cells[key]
  if not found then
    found = {day, user, model, 0, 0, 0, 0, {}}
    cells[key] = found
    order[#order + 1] = key
  end
  return found
end
local function add(c, events, tokens, cost, unpriced)
  c[4] = c[4] + 1
  c[5] = c[5] + events
  c[6] = c[6] + tokens
  c[7] = c[7] + cost
  for _, name in ipairs(unpriced) do c[8][name] = true end
end
for j = 4, #ARGV, 2 do
  local id, day = ARGV[j], ARGV[j + 1]
  local base = prefix .. '{' .. id .. '}:'
  if redis.call('EXISTS', base .. 'meta') == 0 then
    gone[#gone + 1] = id
  else
    local flat = redis.call('HGETALL', base .. 'summary')
    local h = {}
    for k = 1, #flat, 2 do h[flat[k]] = flat[k + 1] end
    local user, readable = '', true
    local raw = redis.call('HGET', base .. 'props', '"""
    + USER_ID_PROPERTY
    + """')
    if raw then
      local ok, value = pcall(cjson.decode, raw)
      if not ok then readable = false
      elseif type(value) == 'string' then user = '=' .. value end
    end
    local events, tokens, cost = tonumber(h['events']), tonumber(h['tokens']), tonumber(h['cost'])
    if #flat == 0 or h['stale'] == '1' or not readable or not events or not tokens
      or not cost then
      slow[#slow + 1] = id
    elseif wanted == '' or (wanted == '-' and user == '') or wanted == user then
      local unpriced, models, counted = {}, {}, 0
      for field, row in pairs(h) do
        if string.sub(field, 1, 2) == 'm:' then
          local e, t, c, p = string.match(row, '^(%S+) (%S+) (%S+) (%S+)$')
          local name = string.sub(field, 3)
          models[#models + 1] = {name, tonumber(e), tonumber(t), tonumber(c), p == '1'}
          if p ~= '1' then unpriced[#unpriced + 1] = name end
          counted = counted + tonumber(e)
        end
      end
      if not by_model then
        add(cell(day, user, ''), events, tokens, cost, unpriced)
      else
        for _, m in ipairs(models) do
          add(cell(day, user, '=' .. m[1]), m[2], m[3], m[4], m[5] and {} or {m[1]})
        end
        if counted < events or #models == 0 then
          add(cell(day, user, ''), events - counted, 0, 0, {})
        end
      end
    end
  end
end
local out = {}
for _, key in ipairs(order) do
  local c = cells[key]
  local names = {}
  for name in pairs(c[8]) do names[#names + 1] = name end
  out[#out + 1] = {c[1], c[2], c[3], string.format('%d', c[4]), string.format('%d', c[5]),
    string.format('%d', c[6]), string.format('%.17g', c[7]), names}
end
return {gone, slow, out}
"""
)


def day_of(score: float) -> int:
    """The UTC day (days since 1970) of an ``updated_at`` score."""
    return int(score) // _DAY_MICROS


def tally_user(query: UsageQuery) -> str | None:
    """``USAGE_SCRIPT``'s user argument for ``query``; None when the script cannot answer it
    (a grouping or a filter it does not know)."""
    if not set(query.group_by) <= _GROUPS or query.filter.min_cost is not None:
        return None
    if query.filter.model is not None or set(query.filter.where) - {"user_id"}:
        return None
    if "user_id" not in query.filter.where:
        return ""
    user = query.filter.where["user_id"]
    if user is None:
        return "-"
    return "=" + user if isinstance(user, str) else None


class UsageTally:
    """Totals by ``query.group_by`` added up from the script's cells."""

    def __init__(self, query: UsageQuery) -> None:
        self.names = query.group_by
        self.totals: dict[tuple[Any, ...], list[Any]] = {}

    def add(self, cells: list[Any]) -> None:
        """Add the script's cells (see ``USAGE_SCRIPT``)."""
        for day, user, model, sessions, events, tokens, cost, unpriced in cells:
            moment = (_EPOCH_DAY + timedelta(days=int(_text(day)))).isoformat()
            who, name = _text(user), _text(model)
            values = {
                "user_id": who[1:] if who else None,
                "model": name[1:] if name else None,
                "day": moment,
                "month": moment[:7],
            }
            key = tuple(values[group] for group in self.names)
            held = self.totals.setdefault(key, [0, 0, 0, 0.0, set()])
            held[0] += int(sessions)
            held[1] += int(events)
            held[2] += int(tokens)
            held[3] += float(cost)
            held[4].update(_text(one) for one in unpriced)

    def rows(self) -> list[UsageRow]:
        """The ``UsageRow``s, sorted as ``usage_in`` sorts them."""
        return usage_rows_from(self.names, self.totals)


def tally_answers(reply: list[Any], tally: UsageTally) -> tuple[list[str], list[str]]:
    """Add one script reply to ``tally``; the ids it found gone and those to count slowly."""
    gone, slow, cells = reply
    tally.add(cells)
    return [_text(one) for one in gone], [_text(one) for one in slow]
