"""``LifecycleManager``: sandboxed sessions with expiry, metadata and grid paths.

Every key the manager stores is scoped by its sandbox (``sandbox:{sandbox_id}:session:{id}``),
so a manager for one sandbox can neither see nor change another sandbox's sessions, even
when the session ids are equal.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from ..exceptions import CorruptSessionData, InvalidInputError, SessionAlreadyExists
from ..validation import ensure_json_value, validate_id
from . import grid, keys
from .cache import SessionCache
from .ids import check_user_id, generate_session_id, resolve_sandbox_id
from .inputs import MAX_TTL_HOURS, MAX_TTL_SECONDS, MIN_TTL_SECONDS, check_hours
from .models import SessionInfo, utc_now
from .protocol import KeyValueSession, SessionFactory
from .provider_factory import factory_for_env

__all__ = ["LifecycleManager", "SessionManager"]

logger = logging.getLogger(__name__)


class LifecycleManager:
    """Allocate, validate, update, extend and delete sessions of one sandbox.

    ``sandbox_id`` defaults to ``$CHUK_SANDBOX_ID``, else a new ``sandbox-xxxxxxxx``.
    ``session_factory`` defaults to ``factory_for_env()`` (memory unless ``SESSION_PROVIDER``
    says otherwise). ``default_ttl_hours`` may be fractional (``0.25`` is 15 minutes).
    ``cache_ttl_seconds > 0`` lets ``get_session_info`` answer from a local cache for that long
    (see ``llm_sessions.lifecycle.cache``); it is off by default. ``clock`` gives the current
    time as an aware UTC datetime (the system clock by default; tests pass one they move by
    hand, and the cache then reads its freshness from it too).
    """

    def __init__(
        self,
        sandbox_id: str | None = None,
        session_factory: SessionFactory | None = None,
        default_ttl_hours: float = 24,
        *,
        cache_ttl_seconds: float = 0.0,
        max_cache_size: int = 1024,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.sandbox_id = resolve_sandbox_id(sandbox_id)
        check_hours(default_ttl_hours, "default_ttl_hours")
        self.default_ttl_hours = default_ttl_hours
        if session_factory is None:
            session_factory = factory_for_env()
        elif not callable(session_factory):
            raise InvalidInputError(
                "session_factory",
                session_factory,
                "must be a callable returning an async context manager",
            )
        self.session_factory: SessionFactory = session_factory
        self._now = utc_now if clock is None else clock
        # The cache measures freshness on a monotonic clock, unless time is the caller's.
        seconds = time.monotonic if clock is None else (lambda: self._now().timestamp())
        self._cache = SessionCache(max_cache_size, cache_ttl_seconds, clock=seconds)

    # ── lifecycle ────────────────────────────────────────────────────────────────────────

    async def allocate_session(
        self,
        session_id: str | None = None,
        user_id: str | None = None,
        ttl_hours: float | None = None,
        custom_metadata: dict[str, Any] | None = None,
    ) -> str:
        """Create a session and return its id (``sess-<user>-<unix time>-<8 hex>``).

        With an explicit ``session_id`` that is already live in this sandbox, that session is
        touched and returned unchanged (``ttl_hours`` and ``custom_metadata`` are not applied);
        if it belongs to a different ``user_id``, ``SessionAlreadyExists`` is raised. An
        expired or absent id is created afresh. Other sandboxes are never read or written.

        Args:
            session_id: The id to use (default: a new one).
            user_id: The user the session belongs to.
            ttl_hours: Its time to live (default: the manager's).
            custom_metadata: JSON values kept with it.

        Returns:
            The session's id.

        Raises:
            SessionAlreadyExists: ``session_id`` is live here for another ``user_id``.
        """
        if session_id is not None:
            validate_id(session_id, "session_id")
        user_id = check_user_id(user_id)
        hours = check_hours(self.default_ttl_hours if ttl_hours is None else ttl_hours)
        metadata = _check_metadata(custom_metadata)
        now = self._now()
        async with self.session_factory() as store:
            if session_id is None:
                session_id = generate_session_id(user_id)
            else:
                existing = await self._load(store, session_id, now)
                if existing is not None:
                    if user_id is not None and existing.user_id != user_id:
                        raise SessionAlreadyExists(session_id)
                    if await self._touch(store, existing, now):
                        return session_id
            info = SessionInfo(
                session_id=session_id,
                sandbox_id=self.sandbox_id,
                user_id=user_id,
                created_at=now,
                expires_at=now + timedelta(hours=hours),
                last_accessed=now,
                custom_metadata=metadata,
            )
            await self._save(store, info, now)
        self._cache.put(info)
        return session_id

    async def validate_session(self, session_id: str) -> bool:
        """True if the session exists here and has not expired; refreshes its last access.

        Args:
            session_id: The session's id.

        Returns:
            Whether the session is live.
        """
        validate_id(session_id, "session_id")
        now = self._now()
        async with self.session_factory() as store:
            info = await self._load(store, session_id, now)
            valid = info is not None and await self._touch(store, info, now)
        if not valid:
            self._cache.discard(session_id)
        return valid

    async def get_session_info(self, session_id: str) -> dict[str, Any] | None:
        """The session's record as a dict, or None when absent or expired.

        Keys: ``session_id``, ``sandbox_id``, ``user_id``, ``created_at``, ``expires_at``,
        ``status``, ``last_accessed`` (ISO-8601 UTC strings for times), ``custom_metadata``.

        Args:
            session_id: The session's id.

        Returns:
            The record, or None.
        """
        validate_id(session_id, "session_id")
        now = self._now()
        cached = self._cache.get(session_id, now)
        if cached is not None:
            return cached.to_dict()
        async with self.session_factory() as store:
            info = await self._load(store, session_id, now)
            if info is None:
                self._cache.discard(session_id)
                return None
            access_key = keys.access_key(self.sandbox_id, session_id)
            info = _with_last_access(info, await store.get(access_key), access_key)
        self._cache.put(info)
        return info.to_dict()

    async def update_session_metadata(
        self, session_id: str, custom_metadata: dict[str, Any], merge: bool = True
    ) -> bool:
        """Merge ``custom_metadata`` into the session's (or replace it with ``merge=False``).

        Returns False when the session is absent or expired here. Concurrent updates of one
        session are last-writer-wins.

        Args:
            session_id: The session's id.
            custom_metadata: The values to set.
            merge: Merge into the current values (False: replace them).

        Returns:
            True once updated; False when the session is absent or expired.
        """
        validate_id(session_id, "session_id")
        metadata = _check_metadata(custom_metadata)
        if not isinstance(merge, bool):
            raise InvalidInputError("merge", merge, "must be True or False")
        now = self._now()
        async with self.session_factory() as store:
            info = await self._load(store, session_id, now)
            if info is None:
                return False
            merged = {**info.custom_metadata, **metadata} if merge else metadata
            info = info.model_copy(update={"custom_metadata": merged, "last_accessed": now})
            if not await self._save(store, info, now):
                return False
        self._cache.put(info)
        return True

    async def extend_session_ttl(self, session_id: str, additional_hours: float) -> bool:
        """Push the session's expiry ``additional_hours`` later (fractions allowed).

        Returns False when the session is absent or expired here.

        Args:
            session_id: The session's id.
            additional_hours: How much later it expires.

        Returns:
            True once extended; False when the session is absent or expired.
        """
        validate_id(session_id, "session_id")
        hours = check_hours(additional_hours, "additional_hours")
        now = self._now()
        async with self.session_factory() as store:
            info = await self._load(store, session_id, now)
            if info is None:
                return False
            expires_at = info.expires_at + timedelta(hours=hours)
            if (expires_at - now).total_seconds() > MAX_TTL_SECONDS:
                raise InvalidInputError(
                    "additional_hours",
                    additional_hours,
                    f"would end the session more than {MAX_TTL_HOURS:g} hours from now",
                )
            info = info.model_copy(update={"expires_at": expires_at, "last_accessed": now})
            if not await self._save(store, info, now):
                return False
        self._cache.put(info)
        return True

    async def delete_session(self, session_id: str) -> bool:
        """Delete the session from this sandbox; True if it existed.

        Args:
            session_id: The session's id.

        Returns:
            Whether it existed.
        """
        validate_id(session_id, "session_id")
        async with self.session_factory() as store:
            deleted = await store.delete(keys.record_key(self.sandbox_id, session_id))
            await store.delete(keys.access_key(self.sandbox_id, session_id))
        self._cache.discard(session_id)
        return bool(deleted)

    async def cleanup_expired_sessions(self) -> int:
        """Drop expired sessions from the local cache and return how many.

        Stores expire records themselves (Redis natively, the memory provider exactly), so
        nothing expired is ever served and nothing else needs deleting.

        Returns:
            How many cached sessions were dropped.
        """
        return self._cache.purge_expired(self._now())

    def get_cache_stats(self) -> dict[str, Any]:
        """Cache size, limits and hits, with this manager's sandbox and default TTL.

        Returns:
            The figures, by name.
        """
        return {
            **self._cache.stats(),
            "sandbox_id": self.sandbox_id,
            "default_ttl_hours": self.default_ttl_hours,
        }

    # ── grid paths ───────────────────────────────────────────────────────────────────────

    def get_canonical_prefix(self, session_id: str) -> str:
        """``grid/{sandbox_id}/{session_id}/``.

        Args:
            session_id: The session's id.

        Returns:
            The prefix of the session's artifact paths.
        """
        return grid.canonical_prefix(self.sandbox_id, session_id)

    def generate_artifact_key(self, session_id: str, artifact_id: str) -> str:
        """``grid/{sandbox_id}/{session_id}/{artifact_id}``.

        Args:
            session_id: The session's id.
            artifact_id: The artifact's id.

        Returns:
            The artifact's path.
        """
        return grid.artifact_key(self.sandbox_id, session_id, artifact_id)

    def parse_grid_key(self, grid_key: str) -> grid.GridKey | None:
        """The parts of a grid path (any sandbox's), or None if it is not one.

        Args:
            grid_key: A path such as ``grid/{sandbox_id}/{session_id}/{artifact_id}``.

        Returns:
            Its sandbox, session and artifact ids, or None.
        """
        return grid.parse_grid_key(grid_key)

    def get_session_prefix_pattern(self) -> str:
        """``grid/{sandbox_id}/``: the prefix of every path in this sandbox.

        Returns:
            The sandbox's path prefix.
        """
        return grid.sandbox_prefix(self.sandbox_id)

    # ── storage ──────────────────────────────────────────────────────────────────────────

    async def _load(
        self, store: KeyValueSession, session_id: str, now: datetime
    ) -> SessionInfo | None:
        key = keys.record_key(self.sandbox_id, session_id)
        raw = await store.get(key)
        if raw is None:
            return None
        info = _parse_record(raw, key)
        if info.sandbox_id != self.sandbox_id or info.session_id != session_id:
            raise _corrupt(key, f"holds {info.sandbox_id}/{info.session_id}")
        return None if info.is_expired(now) else info

    async def _save(self, store: KeyValueSession, info: SessionInfo, now: datetime) -> bool:
        ttl = info.remaining_seconds(now)
        if ttl < MIN_TTL_SECONDS:
            return False
        key = keys.record_key(self.sandbox_id, info.session_id)
        await store.setex(key, ttl, info.model_dump_json())
        return True

    async def _touch(self, store: KeyValueSession, info: SessionInfo, now: datetime) -> bool:
        ttl = info.remaining_seconds(now)
        if ttl < MIN_TTL_SECONDS:
            return False
        key = keys.access_key(self.sandbox_id, info.session_id)
        await store.setex(key, ttl, now.isoformat())
        return True


def _check_metadata(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInputError(
            "custom_metadata", value, f"must be a dict, not {type(value).__name__}"
        )
    ensure_json_value(value, "custom_metadata")
    return dict(value)


def _parse_record(raw: object, key: str) -> SessionInfo:
    if not isinstance(raw, str | bytes):
        raise _corrupt(key, f"the provider returned {type(raw).__name__}, not a string")
    try:
        return SessionInfo.model_validate_json(raw)
    except ValidationError as exc:
        raise _corrupt(key, f"not a session record: {exc.errors()[0]['msg']}") from exc


def _with_last_access(info: SessionInfo, raw: object, key: str) -> SessionInfo:
    if raw is None:
        return info
    if not isinstance(raw, str):
        raise _corrupt(key, f"the provider returned {type(raw).__name__}, not a string")
    try:
        touched = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise _corrupt(key, "not an ISO-8601 time") from exc
    if touched.tzinfo is None:
        raise _corrupt(key, "a time without a time zone")
    if touched <= info.last_accessed:
        return info
    return info.model_copy(update={"last_accessed": touched})


def _corrupt(key: str, reason: str) -> CorruptSessionData:
    logger.warning("Unreadable lifecycle session data at %s: %s", key, reason)
    return CorruptSessionData(key, reason)


SessionManager = LifecycleManager
"""The lifecycle manager's name in the originals (``llm_sessions.SessionManager`` is the
recording API's manager, a different class)."""
