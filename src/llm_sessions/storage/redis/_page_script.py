"""Reading a page of a session's event list in Redis: one script call, with or without the
session's removal records.

``PAGE_SCRIPT`` reads a page by the positions ``event_index`` holds; ``REMOVALS_AND_PAGE_SCRIPT``
also reads the removal records (as ``REMOVALS_SCRIPT`` does), so a page read is one round trip.
Both take ``page_keys`` and ``page_args``; ``page_reply`` reads their answers.
"""

from __future__ import annotations

from typing import Any

from .._event_page import EventPage, unknown_event
from .._records import StoredPage
from ._client import _text
from ._script import FOUR_KEYS, REMOVAL_MARKERS, REMOVAL_ROWS_LUA, removals_keys

__all__ = ["PAGE_SCRIPT", "REMOVALS_AND_PAGE_SCRIPT", "page_args", "page_keys", "page_reply"]

# Reads the page ARGV asks for into ``page`` (after id, before id: "" = none; limit: "" = none;
# "1" to read from the end), or returns {'after'} or {'before'} for a cursor that is not an event.
_PAGE_LUA = """
local first, stop = 0, redis.call('LLEN', events)
if ARGV[1] ~= '' then
  local at = redis.call('HGET', index, ARGV[1])
  if not at then return {'after'} end
  first = tonumber(at) + 1
end
if ARGV[2] ~= '' then
  local at = redis.call('HGET', index, ARGV[2])
  if not at then return {'before'} end
  stop = tonumber(at)
end
local limit = tonumber(ARGV[3])
if limit then
  if ARGV[4] == '1' then
    first = math.max(first, stop - limit)
  else
    stop = math.min(stop, first + limit)
  end
end
local page = {}
if stop > first then page = redis.call('LRANGE', events, first, stop - 1) end
"""

# KEYS: meta, events, event_index. ARGV: see _PAGE_LUA. Returns nil when the session is absent,
# else a status ("" = found, or the name of the cursor that is not an event) followed by the
# rows in list order.
PAGE_SCRIPT = (
    """
local meta, events, index = unpack(KEYS)
if redis.call('EXISTS', meta) == 0 then return false end
"""
    + _PAGE_LUA
    + """
table.insert(page, 1, '')
return page
"""
)

# KEYS: meta, events, event_index, removals. ARGV: see _PAGE_LUA. Both reads in one call (and
# one snapshot): nil when the session is absent, else PAGE_SCRIPT's status, then (when found)
# the number of removal records, their rows, and the page's rows in list order.
REMOVALS_AND_PAGE_SCRIPT = (
    REMOVAL_MARKERS
    + FOUR_KEYS
    + REMOVAL_ROWS_LUA
    + _PAGE_LUA
    + """
local out = {'', #rows}
for _, row in ipairs(rows) do out[#out + 1] = row end
for _, row in ipairs(page) do out[#out + 1] = row end
return out
"""
)


def page_keys(key_prefix: str, session_id: str) -> list[str]:
    """The page scripts' keys for the session (``PAGE_SCRIPT`` reads the first three)."""
    return removals_keys(key_prefix, session_id)


def page_args(after: str | None, before: str | None, limit: int | None, newest: bool) -> list[str]:
    """The page scripts' arguments."""
    return [after or "", before or "", "" if limit is None else str(limit), "1" if newest else ""]


def page_reply(
    reply: Any, page: EventPage, session_id: str, location: str, removals: bool
) -> tuple[list[str | bytes] | None, StoredPage | None]:
    """The removal records (``removals``: the reply of ``REMOVALS_AND_PAGE_SCRIPT``, else
    none) and the page in a page script's ``reply``; (None, None) when the session is absent.

    Raises:
        InvalidInputError: A cursor of ``page`` is not an event of the session.
    """
    if reply is None:
        return None, None
    status = _text(reply[0])
    if status:
        raise unknown_event(status, getattr(page, status), session_id)
    count = int(reply[1]) if removals else 0
    start = 2 + count if removals else 1
    rows = reply[start:]
    if page.newest_first:
        rows.reverse()
    return reply[2:start], StoredPage(rows, location)
