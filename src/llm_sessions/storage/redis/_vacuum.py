"""``RedisSessionStore.vacuum()``: unreadable data moved aside, atomically per session.

A session whose header cannot be read has every key renamed to
``P{id}:quarantined:<stamp>:<part>`` (same hash tag, so one script moves them all; neither
``list_sessions`` nor reads see them). Unreadable event rows, empty ones included, are pushed
to ``P{id}:quarantined:<stamp>:events`` and removed from the log, and the event index is
shifted to the new positions, in one script; the positions having moved, the next write
indexes the session's removal records afresh (see ``redis_script``), and the next listing
recounts the session's summary (see ``redis_summary``).

Both scripts add the names they move data to to the set ``P{id}:quarantine``, in the same step:
an erasure of the session deletes what it names without scanning the keyspace for it.
"""

from __future__ import annotations

import time
from typing import Any

__all__ = [
    "MOVE_EVENTS_SCRIPT",
    "MOVE_SESSION_SCRIPT",
    "quarantine_keys",
    "quarantine_record",
    "unlink_matching",
]

# KEYS: the session's keys, then the quarantine name of each, then the session's record of
# quarantined keys. Renames the ones that exist and records their new names.
MOVE_SESSION_SCRIPT = """
local half = (#KEYS - 1) / 2
local record = KEYS[#KEYS]
local moved = 0
for i = 1, half do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('RENAME', KEYS[i], KEYS[half + i])
    redis.call('SADD', record, KEYS[half + i])
    moved = moved + 1
  end
end
return moved
"""

# KEYS: events, event_index, quarantine list, meta, summary, the session's record of
# quarantined keys. ARGV: positions of the bad rows, ascending. The summary counted the moved
# rows: it is marked for a recount.
MOVE_EVENTS_SCRIPT = """
local events, index, quarantine, meta, summary = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local marker = 'llm-sessions:vacuumed:' .. redis.call('TIME')[1]
local prefix = '{"id":"'
local removed = {}
for i = 1, #ARGV do
  local at = tonumber(ARGV[i])
  local body = redis.call('LINDEX', events, at)
  if body then
    redis.call('RPUSH', quarantine, body)
    redis.call('LSET', events, at, marker)
    removed[#removed + 1] = at
    -- The moved row's own index entry goes: a cursor on it is then unknown, rather than
    -- pointing at the row that slides into its place.
    if string.sub(body, 1, #prefix) == prefix then
      local close = string.find(body, '"', #prefix + 1, true)
      if close then
        local id = string.sub(body, #prefix + 1, close - 1)
        if tonumber(redis.call('HGET', index, id)) == at then redis.call('HDEL', index, id) end
      end
    end
  end
end
redis.call('LREM', events, 0, marker)
local fields = redis.call('HGETALL', index)
for j = 1, #fields, 2 do
  local at = tonumber(fields[j + 1])
  local shift = 0
  for _, gone in ipairs(removed) do
    if gone < at then shift = shift + 1 end
  end
  if shift > 0 then redis.call('HSET', index, fields[j], at - shift) end
end
if #removed > 0 then
  redis.call('SADD', KEYS[6], quarantine)
  redis.call('HDEL', meta, 'removals_through')
  if redis.call('EXISTS', summary) == 1 then redis.call('HSET', summary, 'stale', '1') end
end
return #removed
"""


def quarantine_keys(keys: list[str]) -> list[str]:
    """Where each of a session's keys (``P{id}:<part>``) goes when it is quarantined, then
    the session's record of its quarantined keys (see ``quarantine_record``)."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    return [*(_quarantined(key, stamp) for key in keys), quarantine_record(keys)]


def quarantine_record(keys: list[str]) -> str:
    """The set naming the keys ``vacuum`` moved the data of the session whose ``keys`` these
    are to (``P{id}:quarantine``)."""
    return keys[0].rpartition(":")[0] + ":quarantine"


def _quarantined(key: str, stamp: str) -> str:
    base, _, part = key.rpartition(":")
    return f"{base}:quarantined:{stamp}:{part}"


async def unlink_matching(client: Any, pattern: str) -> int:
    """Unlink every key matching ``pattern`` (a ``SCAN`` pattern), 500 at a time.

    Args:
        client: A ``redis.asyncio`` client.
        pattern: The pattern.

    Returns:
        How many keys went.
    """
    removed = 0
    batch: list[Any] = []
    async for key in client.scan_iter(match=pattern, count=1000):
        batch.append(key)
        if len(batch) >= 500:
            removed += await client.unlink(*batch)
            batch = []
    if batch:
        removed += await client.unlink(*batch)
    return removed
