"""Runs: one logical piece of work inside a session, with an explicit lifecycle."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol
from uuid import uuid4

from pydantic import Field, ValidationInfo, field_validator, model_validator

from ..exceptions import InvalidSessionOperation
from ..validation import ensure_json_value, validate_id
from ._base import STORED_DATA, MetadataHelpers, as_utc, utc_now
from ._tracked import track

if TYPE_CHECKING:
    from ._session_event import SessionEvent

__all__ = ["RunStatus", "SessionRun"]


class _WithEvents(Protocol):
    """A ``Session``, as far as a run reads it (a session holds its runs)."""

    @property
    def events(self) -> Sequence[SessionEvent[Any]]: ...


class RunStatus(StrEnum):
    """Where a run is in its lifecycle."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


_TERMINAL = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED})
_ALLOWED_FROM: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.RUNNING: frozenset({RunStatus.PENDING}),
    RunStatus.COMPLETED: frozenset({RunStatus.PENDING, RunStatus.RUNNING}),
    RunStatus.FAILED: frozenset({RunStatus.PENDING, RunStatus.RUNNING}),
    RunStatus.CANCELLED: frozenset({RunStatus.PENDING, RunStatus.RUNNING}),
}


class SessionRun(MetadataHelpers):
    """A run: pending, then running, then completed, failed or cancelled (final states)."""

    id: str = Field(default_factory=lambda: str(uuid4()))
    status: RunStatus = RunStatus.PENDING
    started_at: datetime = Field(default_factory=utc_now)
    ended_at: datetime | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    _metadata_label: ClassVar[str] = "run.metadata"
    tool_calls: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return validate_id(value, "run.id")

    @field_validator("started_at", "ended_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else as_utc(value)

    @field_validator("metadata")
    @classmethod
    def _json_metadata(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        if info.context is STORED_DATA:  # checked when written
            return value
        return ensure_json_value(value, "run.metadata")  # type: ignore[no-any-return]

    @model_validator(mode="after")
    def _track_metadata(self) -> SessionRun:
        self.__dict__["metadata"] = track(self.metadata, self, "run.metadata")
        return self

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "metadata":
            value = track(ensure_json_value(value, "run.metadata"), self, "run.metadata")
        super().__setattr__(name, value)

    @classmethod
    async def create(cls, metadata: dict[str, Any] | None = None) -> SessionRun:
        """A new pending run."""
        return cls(metadata=dict(metadata or {}))

    @property
    def is_finished(self) -> bool:
        """True once the run is completed, failed or cancelled."""
        return self.status in _TERMINAL

    def _move_to(self, status: RunStatus) -> None:
        if self.status not in _ALLOWED_FROM[status]:
            raise InvalidSessionOperation(
                f"mark run {self.id} {status.value}", f"it is already {self.status.value}"
            )
        self.status = status
        if status is RunStatus.RUNNING:
            self.started_at = utc_now()
        elif status in _TERMINAL:
            self.ended_at = utc_now()

    async def mark_running(self) -> None:
        """Start the run (from pending)."""
        self._move_to(RunStatus.RUNNING)

    async def mark_completed(self) -> None:
        """Finish the run successfully."""
        self._move_to(RunStatus.COMPLETED)

    async def mark_failed(self, reason: str | None = None) -> None:
        """Finish the run as failed, keeping ``reason`` in its metadata."""
        self._move_to(RunStatus.FAILED)
        if reason is not None:
            await self.set_metadata("failure_reason", reason)

    async def mark_cancelled(self, reason: str | None = None) -> None:
        """Finish the run as cancelled, keeping ``reason`` in its metadata."""
        self._move_to(RunStatus.CANCELLED)
        if reason is not None:
            await self.set_metadata("cancel_reason", reason)

    async def get_duration(self) -> float | None:
        """Seconds from start to end (or to now while unfinished); None while pending."""
        if self.status is RunStatus.PENDING:
            return None
        end = self.ended_at or utc_now()
        return (end - self.started_at).total_seconds()

    async def add_tool_call(self, tool_call_id: str) -> None:
        """Record the id of a tool-call event made by this run (no duplicates)."""
        validate_id(tool_call_id, "tool_call_id")
        if tool_call_id not in self.tool_calls:
            self.tool_calls.append(tool_call_id)
            self._mark_changed()

    async def get_tool_calls(self, session: _WithEvents) -> list[SessionEvent[Any]]:
        """The events of ``session`` whose ids this run recorded, in session order."""
        wanted = set(self.tool_calls)
        return [event for event in session.events if event.id in wanted]

    async def to_dict(self) -> dict[str, Any]:
        """The run as a JSON-ready dict, with ``duration``: seconds from start to end once the
        run has ended, None until then."""
        duration = await self.get_duration() if self.ended_at is not None else None
        return {**self.model_dump(mode="json"), "duration": duration}
