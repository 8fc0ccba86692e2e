"""The Redis store's key layout and the Lua script that writes a batch.

Layout (``P`` is the key prefix, ``{id}`` the session id as a Cluster hash tag, so every key of
one session lives in one slot and one script or transaction can touch them all)::

    P{id}:meta         hash   created_at, updated_at, parent_id, seq (insertion counter)
    P{id}:children     zset   child id -> insertion seq (a set that keeps its order)
    P{id}:tasks        zset   task id -> insertion seq
    P{id}:runs         hash   run id -> run JSON
    P{id}:run_order    zset   run id -> insertion seq
    P{id}:state        hash   key -> value JSON
    P{id}:props        hash   key -> value JSON (metadata properties)
    P{id}:events       list   event JSON, in log order
    P{id}:event_index  hash   event id -> position in the list (dedupe, in-place edits)
    P{id}:removals     set    ids of the removal records in the list before position
                              ``removals_through`` (a meta field)
    P{id}:summary      hash   the session's counters for listings (see ``redis_summary``)

Finding the removal records (see ``removals``) must not cost a scan of a long log. The write
script keeps ``P{id}:removals`` and ``removals_through`` in step: when the log has grown past
``removals_through`` without it (a session written before the set existed, or by an older
writer), it first indexes the rows in between. ``REMOVALS_SCRIPT`` reads the indexed records
and scans only the rows past ``removals_through``, so the answer is complete either way.

Keep braces out of the key prefix: a ``{`` there would become every key's hash tag and put all
sessions in one Cluster slot.

``WRITE_SCRIPT`` applies a whole batch atomically, given ``session_keys`` as its keys and
``script_args`` as its arguments (the page scripts are in ``_page_script``); ``SINCE_SCRIPT``
reads the header and the rows after a known event for a refresh.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from .._removals import REMOVAL_ID_PREFIX, REMOVAL_ROW_PREFIX
from .._reseal import SealedSwap
from .._sync import WriteBatch
from ._index import INDEX_LUA, micros
from ._summary import SUMMARY_LUA, summary_args


def _lua_pattern(text: str) -> str:
    """``text`` as a literal in a Lua pattern (punctuation escaped with ``%``)."""
    return "".join(char if char.isalnum() else "%" + char for char in text)


# Prepended to the scripts that look for removal records: how their ids and stored rows start
# (a row's capture is the record's id). Neither constant holds a quote or a backslash.
REMOVAL_MARKERS = (
    f"local removal_id_prefix = '{REMOVAL_ID_PREFIX}'\n"
    "local removal_row = '^"
    + _lua_pattern(REMOVAL_ROW_PREFIX[: -len(REMOVAL_ID_PREFIX)])
    + "("
    + _lua_pattern(REMOVAL_ID_PREFIX)
    + "[^\"]*)'\n"
)

_SUFFIXES = (
    "meta",
    "children",
    "tasks",
    "runs",
    "run_order",
    "state",
    "props",
    "events",
    "event_index",
    "removals",
    "summary",
)
_META_SUFFIX = "}:meta"

# KEYS: the eleven keys of _SUFFIXES, in that order.
# ARGV: created_at, updated_at, parent ("" = unchanged, "=" = none, "=<id>" = set),
# ttl_ms ("" = keep the session's own TTL), the item counts of the twelve sections below
# (space-separated), then the sections' items: children added, children removed, tasks added,
# tasks removed, runs upserted (pairs), runs removed, state set (pairs), state removed,
# properties set (pairs), properties removed, events appended (pairs), events updated (pairs),
# the summary delta (``summary_args``), the index's base ("" = none, "!<base>" = only mark the
# session for a recount, see ``redis_index``), the session id and its created and updated
# scores, and last "existing" (the writer saved or loaded the session before: return 0 if it
# is gone), "new" (return -1 if the id is taken) or "" (either).
WRITE_SCRIPT = (
    REMOVAL_MARKERS
    + """
local meta, children, tasks, runs, run_order, state, props, events, index, removals, summary =
  unpack(KEYS)
local counts = {}
for n in string.gmatch(ARGV[5], '%d+') do counts[#counts + 1] = tonumber(n) end
"""
    + SUMMARY_LUA
    + INDEX_LUA
    + """
local pos, which = 6, 0
local function section(width)
  which = which + 1
  local first = pos
  pos = first + counts[which] * width
  return first, pos - 1
end
local function next_seq()
  return redis.call('HINCRBY', meta, 'seq', 1)
end
local function add_ordered(key)
  local a, b = section(1)
  for j = a, b do redis.call('ZADD', key, 'NX', next_seq(), ARGV[j]) end
end
local function remove_ordered(key)
  local a, b = section(1)
  for j = a, b do redis.call('ZREM', key, ARGV[j]) end
end
local function set_pairs(key)
  local a, b = section(2)
  for j = a, b, 2 do redis.call('HSET', key, ARGV[j], ARGV[j + 1]) end
end
local function remove_fields(key)
  local a, b = section(1)
  for j = a, b do redis.call('HDEL', key, ARGV[j]) end
end

-- Check everything the writes below need before the first one: Redis keeps the writes a
-- script made before a failing command, so a failure must come first or not at all.
local kinds = {
  'hash', 'zset', 'zset', 'hash', 'zset', 'hash', 'hash', 'list', 'hash', 'set', 'hash'
}
for i, key in ipairs(KEYS) do
  local kind = redis.call('TYPE', key)['ok']
  if kind ~= 'none' and kind ~= kinds[i] then
    return redis.error_reply('key ' .. key .. ' holds a ' .. kind .. ', not a ' .. kinds[i])
  end
end
if ARGV[4] ~= '' and not string.match(ARGV[4], '^%d+$') then
  return redis.error_reply('ttl_ms ' .. ARGV[4] .. ' is not a whole number of milliseconds')
end
local seq = redis.call('HGET', meta, 'seq')
if seq and not string.match(seq, '^%d+$') then
  return redis.error_reply('field seq of ' .. meta .. ' is not a whole number: ' .. seq)
end
for _, field in ipairs({'created_at', 'updated_at'}) do
  local stamp = redis.call('HGET', meta, field)
  if stamp and not string.match(stamp, '^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d') then
    return redis.error_reply('CORRUPT field ' .. field .. ' of ' .. meta .. ' is not a time')
  end
end
local widths = {1, 1, 1, 1, 2, 1, 2, 1, 2, 1, 2, 2}
local first_update = 6
for k = 1, 11 do first_update = first_update + counts[k] * widths[k] end
local room = redis.call('LLEN', events) + counts[11]
for j = first_update, first_update + counts[12] * 2 - 1, 2 do
  local at = redis.call('HGET', index, ARGV[j])
  if at and not (string.match(at, '^%d+$') and tonumber(at) < room) then
    return redis.error_reply('field ' .. ARGV[j] .. ' of ' .. index .. ' is not a position: ' .. at)
  end
end
local expect, found = ARGV[#ARGV], redis.call('EXISTS', meta)
if expect == 'existing' and found == 0 then return 0 end
if expect == 'new' and found == 1 then return -1 end

redis.call('HSETNX', meta, 'created_at', ARGV[1])
redis.call('HSET', meta, 'updated_at', ARGV[2])
if ARGV[3] == '=' then
  redis.call('HDEL', meta, 'parent_id')
elseif ARGV[3] ~= '' then
  redis.call('HSET', meta, 'parent_id', string.sub(ARGV[3], 2))
end
add_ordered(children)
remove_ordered(children)
add_ordered(tasks)
remove_ordered(tasks)
local a, b = section(2)
for j = a, b, 2 do
  redis.call('HSET', runs, ARGV[j], ARGV[j + 1])
  redis.call('ZADD', run_order, 'NX', next_seq(), ARGV[j])
end
a, b = section(1)
for j = a, b do
  redis.call('HDEL', runs, ARGV[j])
  redis.call('ZREM', run_order, ARGV[j])
end
set_pairs(state)
remove_fields(state)
set_pairs(props)
remove_fields(props)
local length = redis.call('LLEN', events)
local through = tonumber(redis.call('HGET', meta, 'removals_through'))
if through ~= length then
  if not through or through > length then through = 0 end
  for _, row in ipairs(redis.call('LRANGE', events, through, -1)) do
    local id = string.match(row, removal_row)
    if id then redis.call('SADD', removals, id) end
  end
end
local had_rows, added = length > 0, 0
a, b = section(2)
for j = a, b, 2 do
  if redis.call('HSETNX', index, ARGV[j], length) == 1 then
    redis.call('RPUSH', events, ARGV[j + 1])
    length = length + 1
    added = added + 1
    if string.sub(ARGV[j], 1, #removal_id_prefix) == removal_id_prefix then
      redis.call('SADD', removals, ARGV[j])
    end
  end
end
redis.call('HSET', meta, 'removals_through', length)
a, b = section(2)
for j = a, b, 2 do
  local at = redis.call('HGET', index, ARGV[j])
  if at then redis.call('LSET', events, at, ARGV[j + 1]) end
end
keep_summary(b + 1, added, had_rows)
local base = ARGV[#ARGV - 4]
if string.sub(base, 1, 1) == '!' then
  redis.call('SADD', string.sub(base, 2) .. 'stale', ARGV[#ARGV - 3])
elseif base ~= '' then
  index_written(base, ARGV[#ARGV - 3], ARGV[#ARGV - 2], ARGV[#ARGV - 1], props, summary)
end

local ttl = tonumber(ARGV[4])
if not ttl then
  ttl = redis.call('PTTL', meta)
end
if ttl > 0 then
  for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, ttl) end
end
return 1
"""
)

# Collects the rows of the session's removal records into ``rows``: the indexed ones, then any
# in the rows past removals_through.
REMOVAL_ROWS_LUA = """
local rows = {}
for _, id in ipairs(redis.call('SMEMBERS', removals)) do
  local at = redis.call('HGET', index, id)
  local row = at and redis.call('LINDEX', events, at)
  if row then rows[#rows + 1] = row end
end
local through = tonumber(redis.call('HGET', meta, 'removals_through')) or 0
local length = redis.call('LLEN', events)
if through > length then through = 0 end
for _, row in ipairs(redis.call('LRANGE', events, through, -1)) do
  if string.match(row, removal_row) then rows[#rows + 1] = row end
end
"""
FOUR_KEYS = """
local meta, events, index, removals = unpack(KEYS)
if redis.call('EXISTS', meta) == 0 then return false end
"""

# KEYS: meta, events, event_index, removals. Returns nil when the session is absent, else the
# rows of its removal records.
REMOVALS_SCRIPT = REMOVAL_MARKERS + FOUR_KEYS + REMOVAL_ROWS_LUA + "return rows\n"

# KEYS: the session's keys (``session_keys``). ARGV: an event id. Returns nil when the session
# is absent, {"after"} when the id is not one of its events, else "" followed by the header's
# parts (meta, children, tasks, runs, run_order, state and props, hashes as flat field/value
# lists) and the rows stored after that event: a refresh in one round trip, on a Cluster too.
SINCE_SCRIPT = """
local meta, children, tasks, runs, run_order, state, props, events, index = unpack(KEYS)
local header = redis.call('HGETALL', meta)
if #header == 0 then return false end
local at = redis.call('HGET', index, ARGV[1])
if not at then return {'after'} end
return {
  '', header, redis.call('ZRANGE', children, 0, -1), redis.call('ZRANGE', tasks, 0, -1),
  redis.call('HGETALL', runs), redis.call('ZRANGE', run_order, 0, -1),
  redis.call('HGETALL', state), redis.call('HGETALL', props),
  redis.call('LRANGE', events, tonumber(at) + 1, -1)
}
"""

CORRUPT_REPLY = "CORRUPT "
"""How the write script's error reply starts when the stored header cannot be read."""

_WIDTHS = (1, 1, 1, 1, 2, 1, 2, 1, 2, 1, 2, 2)
"""Items per entry in each section of the write script's arguments (pairs count as one)."""


# Key rotation's compare and swap of header records (see ``reseal``).
# KEYS: the session's runs, state and props hashes. ARGV: per swap, the index of its hash in
# KEYS, the field, the JSON the field must still hold, the JSON to put there.
SWAP_SCRIPT = """
for i = 1, #ARGV, 4 do
  local hash, field = KEYS[tonumber(ARGV[i])], ARGV[i + 1]
  if redis.call('HGET', hash, field) == ARGV[i + 2] then
    redis.call('HSET', hash, field, ARGV[i + 3])
  end
end
return 0
"""
_SWAP_PLACES = {"runs": 1, "state": 2, "properties": 3}


def swap_keys_and_args(
    key_prefix: str, session_id: str, swaps: list[SealedSwap]
) -> tuple[list[str], list[str]]:
    """``SWAP_SCRIPT``'s keys and arguments for ``swaps`` of the session."""
    keys = session_keys(key_prefix, session_id)
    args: list[str] = []
    for swap in swaps:
        args += [str(_SWAP_PLACES[swap.place]), swap.key, swap.expected, swap.new]
    return [keys[3], keys[5], keys[6]], args


def session_keys(key_prefix: str, session_id: str) -> list[str]:
    """The session's keys, in the order of the layout (the write script's ``KEYS``)."""
    base = f"{key_prefix}{{{session_id}}}:"
    return [base + suffix for suffix in _SUFFIXES]


def removals_keys(key_prefix: str, session_id: str) -> list[str]:
    """``REMOVALS_SCRIPT``'s keys for the session."""
    keys = session_keys(key_prefix, session_id)
    return [keys[0], keys[7], keys[8], keys[9]]


def meta_key_pattern(key_prefix: str, id_prefix: str) -> str:
    """A ``SCAN`` pattern for the ``meta`` keys of the sessions whose ids start with
    ``id_prefix`` (glob characters in either prefix match only themselves)."""
    return _glob_escape(key_prefix) + "{" + _glob_escape(id_prefix) + "*" + _META_SUFFIX


def session_id_of(key_prefix: str, meta_key: str) -> str:
    """The session id in a ``meta`` key that ``meta_key_pattern`` matched."""
    return meta_key[len(key_prefix) + 1 : -len(_META_SUFFIX)]


def any_key_pattern(key_prefix: str) -> str:
    """A ``SCAN`` pattern for every session key under ``key_prefix``
    (shaped like ``{prefix}{<id>}:<part>``)."""
    return _glob_escape(key_prefix) + "{*}:*"


def script_args(batch: WriteBatch, ttl_ms: str, index: str) -> list[str]:
    """``WRITE_SCRIPT``'s arguments for a batch; ``ttl_ms`` is "" to keep the session's TTL,
    ``index`` the index's base ("" for a write that indexes nothing)."""
    header = batch.header
    sections: list[list[str]] = [
        header.children_added,
        header.children_removed,
        header.tasks_added,
        header.tasks_removed,
        _flat(header.runs_upserted.items()),
        header.runs_removed,
        _flat(header.state_set.items()),
        header.state_removed,
        _flat(header.properties_set.items()),
        header.properties_removed,
        _flat(batch.appended),
        _flat(batch.updated),
    ]
    counts = " ".join(str(len(items) // _WIDTHS[n]) for n, items in enumerate(sections))
    args = [
        _timestamp(header.created_at),
        _timestamp(header.updated_at),
        "=" + (header.parent_id or "") if header.parent_changed else "",
        ttl_ms,
        counts,
    ]
    for items in sections:
        args += items
    args += summary_args(batch.summary)
    args += [
        index,
        batch.session_id,
        str(micros(header.created_at)),
        str(micros(header.updated_at)),
    ]
    args.append({True: "existing", False: "new", None: ""}[batch.must_exist])
    return args


def _glob_escape(text: str) -> str:
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)


def _flat(pairs: Iterable[tuple[str, str]]) -> list[str]:
    return [part for pair in pairs for part in pair]


def _timestamp(value: datetime) -> str:
    return value.isoformat()
