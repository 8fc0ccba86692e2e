"""Erasure and retention's part of the store API: ``erase``, ``audit_log``,
``apply_retention`` and ``compact`` (a mixin of ``SessionStore``), with the two steps a store
may do its own way: ``_erase_sessions`` and ``_rows_where``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from ._prefix import check_prefix

if TYPE_CHECKING:
    from datetime import datetime

    from ._erasure import AuditRecord, ChainRow, ErasureReceipt
    from ._erasure_run import Erasable
    from ._retention import Retention, RetentionReport

__all__ = ["ErasureMethods"]


class ErasureMethods(ABC):
    """Deleting a user's data for good, and keeping only what a retention policy allows."""

    @abstractmethod
    def _ensure_open(self) -> None:
        """Raise if the store is closed (``SessionStore``'s)."""

    @abstractmethod
    async def delete(self, session_id: str) -> bool:
        """Delete one session (``SessionStore``'s)."""

    async def erase(
        self,
        where: Mapping[str, Any] | None = None,
        session_ids: Sequence[str] | None = None,
        *,
        all: bool = False,
        actor: str | None = None,
        prefix: str = "",
        dry_run: bool = False,
    ) -> ErasureReceipt:
        """Delete the matching sessions and everything derived from them, for good.

        Derived: children, later segments and forks (at any depth), their summary rows,
        removal records and cached copies, and the blobs no other session names. An erasure
        is recorded before anything is deleted: one interrupted (the process killed) is
        finished by the next ``erase`` on the store. Each session goes in one atomic delete,
        so a writer appending to it meanwhile either lands before (and is erased with it) or
        gets ``SessionNotFound``. ``compact()`` afterwards clears the bytes from disk.

        Args:
            where: ``{"user_id": ...}`` and/or ``{"root_id": ...}``; empty only with ``all``.
            session_ids: The sessions to erase (instead of ``where``).
            all: True with an empty ``where``: erase every session (within ``prefix``).
            actor: Who asked, for the audit record.
            prefix: Only sessions whose id starts with this (a tenant's namespace); an id
                outside it is refused.
            dry_run: Only work out what would be erased (``blobs`` counts those named);
                nothing is deleted or recorded.

        Returns:
            The ``ErasureReceipt``: counts per kind of data and the ids erased.

        Raises:
            InvalidInputError: no filter, an empty one without ``all``, an unknown key, both
                ``where`` and ``session_ids``, or an id outside ``prefix`` (nothing deleted).
        """
        from ._erasure import ErasureRequest
        from ._erasure_run import erase

        self._ensure_open()
        request = ErasureRequest.checked(where, session_ids, all, actor, prefix)
        return await erase(cast("Erasable", self), request, dry_run=bool(dry_run))

    async def audit_log(self, prefix: str = "") -> list[AuditRecord]:
        """The records of the erasures carried out on this store, oldest first: who, when,
        the filter and the counts, never content.

        Args:
            prefix: Only erasures asked within this namespace (a tenant's).

        Returns:
            The ``AuditRecord`` list.
        """
        from ._erasure_run import audit_records

        self._ensure_open()
        return await audit_records(cast("Erasable", self), check_prefix(prefix))

    retention: Retention | None = None  # open_store(url, retention=...)'s, the default policy

    async def apply_retention(
        self,
        policy: Retention | None = None,
        now: datetime | None = None,
        *,
        prefix: str = "",
        dry_run: bool = False,
    ) -> RetentionReport:
        """Erase the sessions ``policy`` finds expired (as ``erase`` does, actor ``"retention"``;
        not one a live session derives from), then shorten those it keeps through removal
        records and a stub event saying what went (one save each).

        Args:
            policy: The ``Retention``; None for the one the store was opened with.
            now: The time limits count back from (None: now); for tests and backfills.
            prefix: Only sessions whose id starts with this (a tenant's namespace).
            dry_run: Only work out what would go; nothing is changed or recorded.

        Returns:
            The ``RetentionReport``: the erasure's receipt and the sessions shortened.

        Raises:
            InvalidInputError: No policy, or a bad ``now`` or ``prefix`` (nothing deleted).
        """
        from ._retention_run import run_retention

        return await run_retention(self, policy, now, prefix, dry_run)

    async def compact(self) -> None:
        """Clear what deletes left in the store's storage (free pages, old row versions), so
        erased data is not in its bytes. This default has nothing to clear."""
        self._ensure_open()

    async def _erase_sessions(self, session_ids: Sequence[str]) -> int:
        """Delete ``session_ids`` (each atomically); how many existed. Stores may batch."""
        return sum([await self.delete(session_id) for session_id in session_ids])

    async def _blob_refs(self, session_ids: Sequence[str] | None) -> set[str] | None:
        """The blob references the stored events of ``session_ids`` (None: of every session)
        name, read without loading a session; None when the store cannot tell that way (here:
        never), and the caller loads the sessions. Any reference-shaped text counts, so a
        blob is never taken for unnamed; SQL stores answer with a query over stored JSON."""
        return None

    async def _rows_where(self, key: str, values: Sequence[str], prefix: str) -> list[ChainRow]:
        """The sessions (within ``prefix``) whose ``key`` (``user_id``, ``root_id``) is one of
        ``values``: a ``find_sessions`` per value here; indexed stores answer in one query."""
        from ._erasure_run import rows_where

        return await rows_where(cast("Erasable", self), key, values, prefix)
