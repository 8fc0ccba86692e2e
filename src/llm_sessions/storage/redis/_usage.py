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

__all__ = ["USAGE_SCRIPT", "UsageTally", "tally_answers", "tally_user"]

_DAY_MICROS = 86_400_000_000
_EPOCH_DAY = date(1970, 1, 1)
_GROUPS = frozenset({"user_id", "day", "month", "model"})

# KEYS: the sorted set to read (``updated_at`` scores). ARGV: the key prefix, "1" to split by
# model, the user to keep ("" any, "-" none, else "=" and the id), the id prefix to keep, the
# score range (low inclusive unless it starts with "(", high exclusive unless "+inf"), the
# score and id of the last session a call read ("" for none), how many to read. Returns the
# gone ids, the ids to count the slow way, the last score and id read ("" when the range is
# done), and per cell its day (days since 1970), user ("" none, else "=" and the id), model
# ("" none, else "=" and the name), sessions, events, tokens, cost and unpriced models.
USAGE_SCRIPT = (
    """
local key = KEYS[1]
local prefix, by_model, wanted, within = ARGV[1], ARGV[2] == '1', ARGV[3], ARGV[4]
local low, high, last_score, last, count = ARGV[5], ARGV[6], ARGV[7], ARGV[8], tonumber(ARGV[9])
local gone, slow, cells, order = {}, {}, {}, {}
local page
if last_score ~= '' and tonumber(redis.call('ZSCORE', key, last)) == tonumber(last_score) then
  local rank = redis.call('ZRANK', key, last)
  page = redis.call('ZRANGE', key, rank + 1, rank + count, 'WITHSCORES')
else
  local from = last_score ~= '' and '(' .. last_score or low
  page = redis.call('ZRANGEBYSCORE', key, from, high, 'WITHSCORES', 'LIMIT', 0, count)
end
local limit = string.sub(high, 1, 1) == '(' and tonumber(string.sub(high, 2)) or nil
local ids, days, next_score, next_id = {}, {}, '', ''
for j = 1, #page, 2 do
  local score = tonumber(page[j + 1])
  if limit and score >= limit then break end
  next_score, next_id = page[j + 1], page[j]
  if string.sub(page[j], 1, #within) == within then
    ids[#ids + 1] = page[j]
    days[#days + 1] = math.floor(score / """
    + str(_DAY_MICROS)
    + """)
  end
end
if #page < count * 2 or (limit and next_id ~= page[#page - 1]) then
  next_score, next_id = '', ''
end
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
for n = 1, #ids do
  local id, day = ids[n], days[n]
  local base = prefix .. '{' .. id .. '}:'
  local flat = redis.call('HGETALL', base .. 'summary')
  local user, readable = '', true
  local raw = #flat > 0 and redis.call('HGET', base .. 'props', '"""
    + USER_ID_PROPERTY
    + """')
  if raw then
    local plain = string.match(raw, '^"([^"\\]*)"$')
    if plain then
      user = '=' .. plain
    else
      local ok, value = pcall(cjson.decode, raw)
      if not ok then readable = false
      elseif type(value) == 'string' then user = '=' .. value end
    end
  end
  local events, tokens, cost, stale, rows = nil, nil, nil, false, {}
  for k = 1, #flat, 2 do
    local field = flat[k]
    if field == 'events' then events = tonumber(flat[k + 1])
    elseif field == 'tokens' then tokens = tonumber(flat[k + 1])
    elseif field == 'cost' then cost = tonumber(flat[k + 1])
    elseif field == 'stale' then stale = flat[k + 1] == '1'
    elseif string.sub(field, 1, 2) == 'm:' then rows[#rows + 1] = k end
  end
  if #flat == 0 and redis.call('EXISTS', base .. 'meta') == 0 then
    gone[#gone + 1] = id
  elseif stale or not readable or not events or not tokens or not cost then
    slow[#slow + 1] = id
  elseif wanted == '' or (wanted == '-' and user == '') or wanted == user then
    local unpriced, counted = {}, 0
    for _, k in ipairs(rows) do
      local name, row = string.sub(flat[k], 3), flat[k + 1]
      local e, t, c, p = string.match(row, '^(%S+) (%S+) (%S+) (%S+)$')
      e = tonumber(e)
      counted = counted + e
      if p ~= '1' then unpriced[#unpriced + 1] = name end
      if by_model then
        add(cell(day, user, '=' .. name), e, tonumber(t), tonumber(c), p == '1' and {} or {name})
      end
    end
    if not by_model then
      add(cell(day, user, ''), events, tokens, cost, unpriced)
    elseif counted < events or #rows == 0 then
      add(cell(day, user, ''), events - counted, 0, 0, {})
    end
  end
end
local out = {}
for _, key in ipairs(order) do
  local c = cells[key]
  local names = {}
  for name in pairs(c[8]) do names[#names + 1] = name end
  out[#out + 1] = {string.format('%d', c[1]), c[2], c[3], string.format('%d', c[4]),
    string.format('%d', c[5]), string.format('%d', c[6]), string.format('%.17g', c[7]), names}
end
return {gone, slow, {next_score, next_id}, out}
"""
)


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


def tally_answers(
    reply: list[Any], tally: UsageTally
) -> tuple[list[str], list[str], tuple[str, str] | None]:
    """Add one script reply to ``tally``: the ids it found gone, those to count slowly, and
    the last score and id it read (None when the range is done)."""
    gone, slow, (score, last), cells = reply
    tally.add(cells)
    after = (_text(score), _text(last)) if _text(score) else None
    return [_text(one) for one in gone], [_text(one) for one in slow], after
