"""The rows of the file store's summary index (``summaries.jsonl``), and how a write keeps them.

The index is a JSON-lines file in the store's folder. Its first line names the format
(``VERSION_LINE``); a ``{"complete":1}`` line says every session of the folder was counted
into it. Every other line is a row about one session, and the newest row of a session is the
one that counts:

- a full row: the session's ``id``, the ``gen``eration, inode (``ino``) and ``size`` of the
  event log it was counted from, the header fields a listing shows (``parent_id``,
  ``created_at``, ``updated_at``, ``expires_at``, ``properties``) and the counters (``events``,
  ``tokens``, ``cost``, ``errors``, and ``models``: name -> [events, tokens, cost, priced]);
- a stale row (``{"id": ..., "stale": 1}``): the session must be recounted from its files;
- a gone row (``{"id": ..., "gone": 1}``): the session was deleted.

A write appends a stale row before it changes the session's files and a full row once they
are written, both under the session's lock (``SummaryUpkeep``); a crash in between leaves the
stale row newest, so the session is recounted. A write that cannot add its events to the
previous counts (events removed or edited, a retry, counts that do not match the log) leaves
the stale row standing. Encrypted stores write stale rows only: nothing in clear.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ...models._session_metadata import split_reserved
from .._summaries import ModelCount, ModelTotals, SessionSummary
from .._summary_delta import SummaryDelta, Totals, add_delta
from ._format import Log, updated_at

__all__ = [
    "COMPLETE_LINE",
    "VERSION_LINE",
    "Counts",
    "RowSink",
    "SummaryUpkeep",
    "counts_of_summary",
    "full_row",
    "gone_row",
    "row_line",
    "stale_row",
    "summary_of_row",
]

VERSION_LINE = b'{"llm_sessions.summaries":1}\n'
COMPLETE_LINE = b'{"complete":1}\n'


@dataclass
class Counts:
    """A row's counters: totals, and per model."""

    totals: Totals = field(default_factory=Totals)
    models: dict[str, ModelCount] = field(default_factory=dict)


def row_line(row: dict[str, Any]) -> bytes:
    """The row as one line of the index."""
    return json.dumps(row, separators=(",", ":"), allow_nan=False).encode() + b"\n"


def stale_row(session_id: str) -> dict[str, Any]:
    """The row that marks a session for a recount."""
    return {"id": session_id, "stale": 1}


def gone_row(session_id: str) -> dict[str, Any]:
    """The row of a deleted session."""
    return {"id": session_id, "gone": 1}


def full_row(session_id: str, doc: dict[str, Any], log: Log, counts: Counts) -> dict[str, Any]:
    """The row of a session whose header is ``doc``, counted through ``log``."""
    totals = counts.totals
    return {
        "id": session_id,
        "gen": doc["generation"],
        "ino": log.inode,
        "size": log.offset,
        "parent_id": doc["parent_id"],
        "created_at": doc["created_at"],
        "updated_at": updated_at(doc, log).isoformat(),
        "expires_at": doc.get("expires_at"),
        "properties": doc["properties"],
        "events": totals.events,
        "tokens": totals.tokens,
        "cost": totals.cost_usd,
        "errors": int(totals.has_errors),
        "models": {
            name: [m.events, m.tokens, m.cost_usd, int(m.priced)]
            for name, m in sorted(counts.models.items())
        },
    }


def counts_of_summary(summary: SessionSummary) -> Counts:
    """The counters of a summary counted from a full load."""
    totals = Totals(
        summary.event_count, summary.total_tokens, summary.total_cost_usd, summary.has_errors
    )
    models = {
        name: ModelCount(m.events, m.tokens, m.cost_usd, m.priced)
        for name, m in summary.model_usage.items()
    }
    return Counts(totals, models)


def _counts_of_row(row: dict[str, Any]) -> Counts:
    totals = Totals(row["events"], row["tokens"], row["cost"], bool(row["errors"]))
    models = {
        name: ModelCount(events, tokens, cost, bool(priced))
        for name, (events, tokens, cost, priced) in row["models"].items()
    }
    return Counts(totals, models)


def summary_of_row(row: dict[str, Any]) -> tuple[SessionSummary, bool]:
    """The summary a full row holds, and whether the session names no root (its root is then
    found through its parents).

    Raises:
        KeyError, TypeError, ValueError: the row is not a readable full row.
    """
    owner, own = split_reserved(row["properties"])
    models = {
        name: ModelTotals(events=e, tokens=t, cost_usd=c, priced=bool(p))
        for name, (e, t, c, p) in row["models"].items()
    }
    session_id = row["id"]
    summary = SessionSummary(
        id=session_id,
        parent_id=row["parent_id"],
        root_id=owner["root_id"] or row["parent_id"] or session_id,
        user_id=owner["user_id"],
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
        event_count=row["events"],
        total_tokens=row["tokens"],
        total_cost_usd=row["cost"],
        unpriced_models=sorted(name for name, m in models.items() if not m.priced),
        models=sorted(models),
        has_errors=bool(row["errors"]),
        properties=own,
        model_usage=models,
    )
    return summary, owner["root_id"] is None


class RowSink(Protocol):
    """Where a write's rows go: the index held for appends (``_index.Appender``)."""

    def newest(self, session_id: str) -> dict[str, Any] | None: ...

    def add(self, row: dict[str, Any]) -> None: ...


@dataclass
class SummaryUpkeep:
    """One write's part in the index: the stale row before the files change, the full row
    after (see the module's docstring)."""

    index: RowSink | None
    session_id: str
    delta: SummaryDelta | None
    previous: dict[str, Any] | None
    """The session's newest row before this write (None for a session created afresh)."""
    fresh: bool
    log_before: tuple[int, int] = (-1, 0)

    @classmethod
    def begin(
        cls, index: RowSink | None, session_id: str, delta: SummaryDelta | None, fresh: bool
    ) -> SummaryUpkeep:
        """Read the session's newest row and append a stale one (nothing without an index)."""
        previous = None
        if index is not None:
            previous = None if fresh else index.newest(session_id)
            index.add(stale_row(session_id))
        return cls(index, session_id, delta, previous, fresh)

    def log_read(self, log: Log) -> None:
        """Note where the event log ended before this write appended to it."""
        self.log_before = (log.inode, log.offset)

    def finish(self, doc: dict[str, Any], log: Log, appended: int) -> None:
        """Append the full row, unless the session must be recounted."""
        delta = self.delta
        if self.index is None or delta is None or delta.recount or appended != delta.events:
            return
        counts = self._counts_before(doc)
        if counts is None:
            return
        add_delta(counts.totals, counts.models, delta)
        self.index.add(full_row(self.session_id, doc, log, counts))

    def _counts_before(self, doc: dict[str, Any]) -> Counts | None:
        if self.fresh:
            return Counts()
        row = self.previous
        if row is None or "gen" not in row or row["gen"] != doc["generation"]:
            return None
        if (row["ino"], row["size"]) != self.log_before:
            return None  # a write this row missed (a crash, or an older version of us)
        try:
            return _counts_of_row(row)
        except (KeyError, TypeError, ValueError):
            return None
