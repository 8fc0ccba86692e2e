"""The Redis store's index of sessions: sorted sets that order and filter them for listings.

Every index key shares one hash tag, ``P{/index}:`` (``/`` is in no session id), so on a
Cluster they all live in one slot and one script updates them together::

    P{/index}:o:updated_at  zset   session id -> updated_at (microseconds since 1970, UTC)
    P{/index}:o:created_at  zset   session id -> created_at (microseconds)
    P{/index}:o:cost        zset   session id -> total cost, the summary hash's text
    P{/index}:o:tokens      zset   session id -> total tokens
    P{/index}:u:<user id>   zset   the user's sessions -> updated_at
    P{/index}:m:<model>     zset   the sessions that used the model -> updated_at
    P{/index}:entries       hash   session id -> JSON [user or false, models, rev, created]:
                                   which sets hold it (to take it out of them) and the
                                   summary revision the entry was written from
    P{/index}:stale         set    sessions whose summary hash awaits a recount
    P{/index}:built         string set once every stored session has been indexed

On one server or Sentinel the write script indexes the session in the same call
(``INDEX_LUA``), so the index and the summary hashes agree atomically. A Cluster script cannot
reach another slot: there the store indexes a session in a second call (``INDEX_SCRIPT``) from
what it reads back, and readers check each entry against the session's hashes (a session
gone or expired is taken out; an entry that disagrees is rewritten and the row skipped).
``INDEX_SCRIPT`` writes an entry only over one of an older revision of the same session
(the same ``created`` stamp), so a late second call never undoes a newer one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ...models._session_metadata import USER_ID_PROPERTY
from .._summaries import SessionSummary

__all__ = [
    "INDEX_LUA",
    "INDEX_SCRIPT",
    "RANGE_SCRIPT",
    "READ_SCRIPT",
    "UNINDEX_SCRIPT",
    "index_base",
    "index_values",
    "micros",
    "sort_score",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)

# Functions of the scripts that write the index. ``v`` holds a session's entry: rev, created,
# updated (scores, as text), cost, tokens (text), user (false: none), models (a list), stale.
INDEX_LUA = (
    """
local function index_entry(base, id)
  local old = redis.call('HGET', base .. 'entries', id)
  if old then return cjson.decode(old) end
  return nil
end
local function index_drop(base, id)
  local old = index_entry(base, id)
  if old then
    if old[1] then redis.call('ZREM', base .. 'u:' .. old[1], id) end
    for _, m in ipairs(old[2]) do redis.call('ZREM', base .. 'm:' .. m, id) end
    redis.call('HDEL', base .. 'entries', id)
  end
  for _, o in ipairs({'updated_at', 'created_at', 'cost', 'tokens'}) do
    redis.call('ZREM', base .. 'o:' .. o, id)
  end
  redis.call('SREM', base .. 'stale', id)
end
local function index_put(base, id, v, old)
  if old then
    if old[1] and old[1] ~= v.user then redis.call('ZREM', base .. 'u:' .. old[1], id) end
    local keep = {}
    for _, m in ipairs(v.models) do keep[m] = true end
    for _, m in ipairs(old[2]) do
      if not keep[m] then redis.call('ZREM', base .. 'm:' .. m, id) end
    end
  end
  redis.call('ZADD', base .. 'o:updated_at', v.updated, id)
  redis.call('ZADD', base .. 'o:created_at', v.created, id)
  redis.call('ZADD', base .. 'o:cost', v.cost, id)
  redis.call('ZADD', base .. 'o:tokens', v.tokens, id)
  if v.user then redis.call('ZADD', base .. 'u:' .. v.user, v.updated, id) end
  for _, m in ipairs(v.models) do redis.call('ZADD', base .. 'm:' .. m, v.updated, id) end
  redis.call('HSET', base .. 'entries', id, cjson.encode({v.user, v.models, v.rev, v.created}))
  if v.stale then
    redis.call('SADD', base .. 'stale', id)
  else
    redis.call('SREM', base .. 'stale', id)
  end
end
-- The entry of a session the calling script has just written (its props and summary keys).
local function index_written(base, id, created, updated, props, summary)
  local user = false
  local raw = redis.call('HGET', props, '"""
    + USER_ID_PROPERTY
    + """')
  if raw then
    local ok, value = pcall(cjson.decode, raw)
    if ok and type(value) == 'string' then user = value end
  end
  local models = {}
  for _, field in ipairs(redis.call('HKEYS', summary)) do
    if string.sub(field, 1, 2) == 'm:' then models[#models + 1] = string.sub(field, 3) end
  end
  local counts = redis.call('HMGET', summary, 'rev', 'cost', 'tokens', 'stale')
  index_put(base, id, {
    rev = counts[1] or '0', created = created, updated = updated, cost = counts[2] or '0',
    tokens = counts[3] or '0', user = user, models = models, stale = counts[4] == '1'
  }, index_entry(base, id))
end
"""
)

# KEYS: the index's ``entries`` hash. ARGV: per session its id, rev, created, updated, cost,
# tokens, user ("" = none, else "=" and the id), stale ("1"/"0"), the number of models, the
# models. Writes each entry unless the index holds a newer revision of the same session.
INDEX_SCRIPT = (
    INDEX_LUA
    + """
local base = string.sub(KEYS[1], 1, #KEYS[1] - #'entries')
local j, written = 1, 0
while j <= #ARGV do
  local id, count = ARGV[j], tonumber(ARGV[j + 8])
  local user = ARGV[j + 6] ~= '' and string.sub(ARGV[j + 6], 2) or false
  local models = {}
  for k = j + 9, j + 8 + count do models[#models + 1] = ARGV[k] end
  local v = {rev = ARGV[j + 1], created = ARGV[j + 2], updated = ARGV[j + 3],
    cost = ARGV[j + 4], tokens = ARGV[j + 5], user = user, models = models,
    stale = ARGV[j + 7] == '1'}
  local old = index_entry(base, id)
  if not old or old[4] ~= v.created or tonumber(old[3]) <= tonumber(v.rev) then
    index_put(base, id, v, old)
    written = written + 1
  end
  j = j + 9 + count
end
return written
"""
)

# KEYS: the index's ``entries`` hash. ARGV: session ids. Takes them out of the index.
UNINDEX_SCRIPT = (
    INDEX_LUA
    + """
local base = string.sub(KEYS[1], 1, #KEYS[1] - #'entries')
for _, id in ipairs(ARGV) do index_drop(base, id) end
return #ARGV
"""
)

# One server only (it names the sessions' keys itself). ARGV: the key prefix, session ids.
# Returns per session its meta, props and summary hashes, each a flat field/value list.
READ_SCRIPT = """
local out = {}
for j = 2, #ARGV do
  local base = ARGV[1] .. '{' .. ARGV[j] .. '}:'
  out[#out + 1] = redis.call('HGETALL', base .. 'meta')
  out[#out + 1] = redis.call('HGETALL', base .. 'props')
  out[#out + 1] = redis.call('HGETALL', base .. 'summary')
end
return out
"""

# KEYS: a zset. ARGV: "1" for descending, the bound to start from (inclusive unless it starts
# with "("), the score and member of the last entry read ("" for none), how many to read.
# Returns member, score pairs after the last entry: by its rank while it still has that score
# (exact, whatever the ties), else from its score on (the caller skips ties it has seen).
RANGE_SCRIPT = """
local key, desc, count = KEYS[1], ARGV[1] == '1', tonumber(ARGV[5])
local last_score, last = ARGV[3], ARGV[4]
if last_score ~= '' then
  local score = redis.call('ZSCORE', key, last)
  if score and tonumber(score) == tonumber(last_score) then
    if desc then
      local rank = redis.call('ZREVRANK', key, last)
      return redis.call('ZREVRANGE', key, rank + 1, rank + count, 'WITHSCORES')
    end
    local rank = redis.call('ZRANK', key, last)
    return redis.call('ZRANGE', key, rank + 1, rank + count, 'WITHSCORES')
  end
end
local from = last_score ~= '' and last_score or ARGV[2]
if desc then
  return redis.call('ZREVRANGEBYSCORE', key, from, '-inf', 'WITHSCORES', 'LIMIT', 0, count)
end
return redis.call('ZRANGEBYSCORE', key, from, '+inf', 'WITHSCORES', 'LIMIT', 0, count)
"""


def index_base(key_prefix: str) -> str:
    """The prefix of every index key of the store with ``key_prefix``."""
    return f"{key_prefix}{{/index}}:"


def micros(moment: datetime) -> int:
    """``moment`` as whole microseconds since 1970 (UTC): an exact zset score."""
    return (moment - _EPOCH) // _MICRO


def sort_score(key: str, value: Any) -> float:
    """The zset score of a sort value of ``key`` (as a keyset holds it)."""
    if isinstance(value, datetime):
        return float(micros(value))
    return float(value)


def index_values(summary: SessionSummary, revision: str, stale: bool) -> list[str]:
    """``INDEX_SCRIPT``'s arguments for one session, from its summary as read."""
    user = "" if summary.user_id is None else "=" + summary.user_id
    return [
        summary.id,
        revision or "0",
        str(micros(summary.created_at)),
        str(micros(summary.updated_at)),
        repr(float(summary.total_cost_usd)),
        str(summary.total_tokens),
        user,
        "1" if stale else "0",
        str(len(summary.models)),
        *summary.models,
    ]
