"""Copying sessions from one store to another, resumably.

A session the target already holds, identical, is skipped, so an interrupted copy run again
picks up where it stopped. One that differs is counted as failed (or, with ``replace=True``,
replaced). Ids, timestamps and every segment link are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..exceptions import SessionManagerError
from ..models import Session
from ..storage import SessionStoreInterface
from ._blob_lines import copy_blobs
from .jsonl import dump_session
from .transfer import detached

__all__ = ["CopyOutcome", "CopyReport", "copy_sessions"]


class CopyOutcome(StrEnum):
    """What happened to one session."""

    COPIED = "copied"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass
class CopyReport:
    """Counts of a copy, and why each failed session failed."""

    copied: int = 0
    skipped: int = 0
    failed: int = 0
    events: int = 0
    """Events written by the copy."""
    errors: dict[str, str] = field(default_factory=dict)
    """Session id -> the reason it was not copied."""

    def count(self, outcome: CopyOutcome) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)


Progress = Callable[[str, CopyOutcome], Any]
"""Called after each session with its id and outcome."""


async def copy_sessions(
    source: SessionStoreInterface,
    target: SessionStoreInterface,
    *,
    prefix: str = "",
    replace: bool = False,
    on_progress: Progress | None = None,
    session_ids: list[str] | None = None,
) -> CopyReport:
    """Copy every session of ``source`` whose id starts with ``prefix`` into ``target``.

    ``session_ids`` (the ids to copy, e.g. from an earlier ``list_sessions``) replaces the
    listing. A session that fails is counted and the copy goes on with the next one.
    """
    report = CopyReport()
    ids = session_ids if session_ids is not None else await source.list_sessions(prefix)
    for session_id in ids:
        try:
            outcome = await _copy_one(source, target, session_id, replace, report)
        except SessionManagerError as exc:
            report.errors[session_id] = f"{type(exc).__name__}: {exc}"
            outcome = CopyOutcome.FAILED
        report.count(outcome)
        if on_progress is not None:
            on_progress(session_id, outcome)
    return report


async def _copy_one(
    source: SessionStoreInterface,
    target: SessionStoreInterface,
    session_id: str,
    replace: bool,
    report: CopyReport,
) -> CopyOutcome:
    session = await source.get(session_id)
    if session is None:  # deleted or expired since the listing
        return CopyOutcome.SKIPPED
    existing = await target.get(session_id)
    if existing is not None:
        if _same(existing, session):
            return CopyOutcome.SKIPPED
        if not replace:
            report.errors[session_id] = "the target holds a different session with this id"
            return CopyOutcome.FAILED
        await target.delete(session_id)
    await copy_blobs(source, target, session)  # before the events that name them
    await target.save(detached(session))
    report.events += len(session.events)
    return CopyOutcome.COPIED


def _same(left: Session[Any], right: Session[Any]) -> bool:
    return dump_session(left) == dump_session(right)
