"""What an erasure asks for, what it will delete, and what it leaves on record.

``store.erase(...)`` (see ``erasure_run``) checks an ``ErasureRequest``, works out an
``ErasurePlan`` (every session to delete and the blobs they name), records the plan beside the
store before deleting anything, and on completion replaces it with an ``AuditRecord``: who,
when, the filter and the counts, never content. A plan still on record belongs to an erasure
that was interrupted; the next ``erase`` on the store finishes it first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from ..exceptions import InvalidInputError
from ..validation import validate_id

__all__ = [
    "ERASABLE_KEYS",
    "AuditRecord",
    "ChainRow",
    "ErasurePlan",
    "ErasureReceipt",
    "ErasureRequest",
]

ERASABLE_KEYS = ("user_id", "root_id")
"""The keys ``erase(where=...)`` matches on."""
_MAX_ACTOR = 256


class ChainRow(NamedTuple):
    """What an erasure reads of a session to match it and find what derives from it."""

    id: str
    parent_id: str | None
    root_id: str
    user_id: str | None
    events: int


class ErasureReceipt(BaseModel):
    """What one ``erase`` call deleted.

    ``counts`` has one entry per kind of data (``sessions``, ``events``, ``blobs``, ...);
    ``session_ids`` are the sessions deleted (the matched ones and those derived from them).
    ``resumed`` lists the ids of interrupted erasures this call finished before its own.
    """

    model_config = ConfigDict(frozen=True)

    erasure_id: str
    actor: str | None = None
    started_at: datetime
    finished_at: datetime
    filter: dict[str, Any]
    counts: dict[str, int]
    session_ids: list[str] = Field(default_factory=list)
    resumed: list[str] = Field(default_factory=list)


class AuditRecord(BaseModel):
    """The record a store keeps of one erasure: who, when, the filter and the counts (never
    what was erased)."""

    model_config = ConfigDict(frozen=True)

    erasure_id: str
    actor: str | None = None
    started_at: datetime
    finished_at: datetime
    filter: dict[str, Any]
    counts: dict[str, int]


class ErasurePlan(BaseModel):
    """An erasure worked out and recorded before anything is deleted, so a rerun can finish it.

    ``prefix`` is the namespace (tenant) it was asked in; ``derived`` names, per kind of
    derived data, what to delete after the sessions (blob references: no content); ``events``
    how many events the sessions held when matched.
    """

    erasure_id: str
    actor: str | None = None
    started_at: datetime
    filter: dict[str, Any]
    prefix: str = ""
    session_ids: list[str]
    events: int = 0
    derived: dict[str, list[str]] = Field(default_factory=dict)

    def audit(self, counts: Mapping[str, int], finished_at: datetime) -> AuditRecord:
        """The audit record of this plan, carried out with ``counts``."""
        return AuditRecord(
            erasure_id=self.erasure_id,
            actor=self.actor,
            started_at=self.started_at,
            finished_at=finished_at,
            filter=self.filter,
            counts=dict(counts),
        )


@dataclass(frozen=True)
class ErasureRequest:
    """A checked ``erase`` call: exactly one of ``where``, ``session_ids`` and ``everything``."""

    where: dict[str, str] | None
    session_ids: tuple[str, ...] | None
    everything: bool
    actor: str | None
    prefix: str
    described: dict[str, Any] | None = None
    """What the audit log keeps as the filter instead of the ids (retention's policy)."""

    @classmethod
    def checked(
        cls,
        where: Mapping[str, Any] | None,
        session_ids: Sequence[str] | None,
        everything: object,
        actor: object,
        prefix: object,
    ) -> ErasureRequest:
        """The request, or ``InvalidInputError`` naming what is wrong (nothing is deleted)."""
        if not isinstance(prefix, str):
            raise InvalidInputError("prefix", prefix, "must be a string")
        if not isinstance(everything, bool):
            raise InvalidInputError("all", everything, "must be True or False")
        if actor is not None and (not isinstance(actor, str) or len(actor) > _MAX_ACTOR):
            raise InvalidInputError("actor", actor, f"must be a string of <= {_MAX_ACTOR} chars")
        if where is not None and session_ids is not None:
            raise InvalidInputError(
                "session_ids", session_ids, "give either where= or session_ids=, not both"
            )
        if session_ids is not None:
            if everything:
                raise InvalidInputError("all", everything, "all=True erases by where=, not ids")
            return cls(None, _checked_ids(session_ids, prefix), False, actor, prefix)
        if where is None:
            raise InvalidInputError(
                "where", where, "give where= (all=True with an empty one) or session_ids="
            )
        return cls(_checked_where(where, everything), None, everything, actor, prefix)

    def filter(self) -> dict[str, Any]:
        """The filter as the audit log keeps it."""
        chosen: dict[str, Any] = (
            dict(self.described)
            if self.described is not None
            else {"session_ids": list(self.session_ids)}
            if self.session_ids is not None
            else {"where": dict(self.where or {}), "all": self.everything}
        )
        return {**chosen, "prefix": self.prefix} if self.prefix else chosen


def _checked_where(where: object, everything: bool) -> dict[str, str]:
    if not isinstance(where, Mapping):
        raise InvalidInputError("where", where, f"must be a mapping of {ERASABLE_KEYS}")
    for key, value in where.items():
        if key not in ERASABLE_KEYS:
            raise InvalidInputError(f"where[{key!r}]", value, f"keys must be in {ERASABLE_KEYS}")
        if not isinstance(value, str) or not value:
            raise InvalidInputError(f"where[{key!r}]", value, "must be a non-empty string")
    if not where and not everything:
        raise InvalidInputError(
            "where", dict(where), "is empty: that erases every session; pass all=True to mean it"
        )
    if where and everything:
        raise InvalidInputError("all", everything, "all=True takes an empty where= (everything)")
    return dict(where)


def _checked_ids(session_ids: object, prefix: str) -> tuple[str, ...]:
    if isinstance(session_ids, str) or not isinstance(session_ids, Sequence):
        raise InvalidInputError("session_ids", session_ids, "must be a list of session ids")
    if not session_ids:
        raise InvalidInputError("session_ids", session_ids, "must name at least one session")
    for session_id in session_ids:
        validate_id(session_id)
        if not session_id.startswith(prefix):
            raise InvalidInputError(
                "session_ids", session_id, f"is outside this namespace (ids start with {prefix!r})"
            )
    return tuple(dict.fromkeys(session_ids))
