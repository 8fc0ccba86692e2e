"""Removing events from an append-only log: removal records.

Nothing is ever deleted from a session's log. Removing events appends a *removal record* to the
log, in the same atomic write as the rest of a save, through the same append path as events::

    {"id":"~removed~<digest>","removed_event_ids":["<event id>", ...],"timestamp":"..."}

Every read path drops the records and the events they name (``split_removals``). The records
merge by union: two writers that remove different events both land, removing an event twice is
harmless, and once removed an id stays removed in that session. A record's id is a digest of the
ids it removes, so a retried save does not write it twice. A reader that keeps a session and
reads only the rows appended since (an incremental refresh) learns of a removal the same way it
learns of a new event: the record is one of the new rows.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from datetime import datetime

__all__ = [
    "REMOVAL_ID_PREFIX",
    "REMOVAL_ROW_PREFIX",
    "is_removal_row",
    "removal_records",
    "split_removals",
]

logger = logging.getLogger("llm_sessions.storage")

REMOVAL_ID_PREFIX = "~removed~"
"""Ids of removal records start with this; no event id may."""

REMOVAL_ROW_PREFIX = '{"id":"' + REMOVAL_ID_PREFIX
"""How the stored row of a removal record starts."""

_ROW_PREFIX_BYTES = REMOVAL_ROW_PREFIX.encode()
_IDS_PER_RECORD = 1000
"""Large removals (``clear()`` of a long session) are split so that no record is large."""


def removal_records(event_ids: Sequence[str], at: datetime) -> list[tuple[str, str]]:
    """``(record id, record JSON)`` rows that remove ``event_ids``."""
    ids = sorted(set(event_ids))
    rows = []
    for start in range(0, len(ids), _IDS_PER_RECORD):
        chunk = ids[start : start + _IDS_PER_RECORD]
        digest = hashlib.sha256("\n".join(chunk).encode()).hexdigest()[:32]
        record_id = REMOVAL_ID_PREFIX + digest
        body = {"id": record_id, "removed_event_ids": chunk, "timestamp": at.isoformat()}
        rows.append((record_id, json.dumps(body, ensure_ascii=False, separators=(",", ":"))))
    return rows


def is_removal_row(row: str | bytes) -> bool:
    """Whether a stored log row is a removal record rather than an event."""
    if isinstance(row, bytes):
        return row.startswith(_ROW_PREFIX_BYTES)
    return row.startswith(REMOVAL_ROW_PREFIX)


def split_removals(
    rows: Sequence[str | bytes], location: str
) -> tuple[Sequence[str | bytes], set[str]]:
    """The event rows of a log, and the ids its removal records remove.

    The event rows still include the removed events: their ids are known only once decoded.
    An unreadable record is logged at WARNING with its location and ignored.
    """
    records = _removal_positions(rows)
    if not records:  # the usual case: a log without removals, checked without a call per row
        return rows, set()
    at_records = set(records)
    events = [row for n, row in enumerate(rows) if n not in at_records]
    removed: set[str] = set()
    for row in (rows[n] for n in records):
        try:
            ids = json.loads(row)["removed_event_ids"]
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise ValueError("removed_event_ids is not a list of ids")
        except (ValueError, KeyError, TypeError) as exc:
            logger.warning("Skipping unreadable removal record at %s: %s", location, exc)
            continue
        removed.update(ids)
    return events, removed


def _removal_positions(rows: Sequence[str | bytes]) -> list[int]:
    """Where the removal records are in ``rows``: one loop without calls when the rows are all
    text or all bytes, as each store reads them."""
    try:
        if rows and isinstance(rows[0], bytes):
            return [n for n, row in enumerate(rows) if row.startswith(_ROW_PREFIX_BYTES)]  # type: ignore[arg-type]
        return [n for n, row in enumerate(rows) if row.startswith(REMOVAL_ROW_PREFIX)]  # type: ignore[arg-type]
    except TypeError:  # text and bytes mixed (opened encrypted rows among stored bytes)
        return [n for n, row in enumerate(rows) if is_removal_row(row)]
