"""Sessions kept as files: a small JSON header and an append-only JSON-lines event log each.

Per session, in the store's folder (``<name>`` is the id itself, or ``~`` and the id's SHA-256
when the id is too long for a file name or starts with ``~``)::

    <name>.json          the header; replaced atomically (temporary file, fsync, os.replace)
    <name>.events.jsonl  one event JSON per line, appended; a later line whose id is already
                         in the file is an edit, applied at the first line's position
    <name>.lock          flock'ed: exclusively by writers, shared by readers
    quarantine/          unreadable data moved aside by ``vacuum()`` or a writer

File work runs in worker threads, never on the event loop. Ids are compared byte for byte, so
on a case-insensitive file system ids that differ only in case would share files.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from ...exceptions import CorruptSessionData, InvalidInputError, InvalidSessionId, StorageError
from ...models.session import Session
from ...validation import validate_id
from ..base import StoreState
from ..event_log import EventLogStore
from ..records import StoredHeader, StoredSession, build_session
from ..sync import HeaderChanges, WriteBatch

if os.name == "posix":
    import fcntl

__all__ = ["FileSessionStore", "create_file_session_store"]

logger = logging.getLogger("llm_sessions.storage")

_T = TypeVar("_T")
_HEADER = ".json"
_EVENTS = ".events.jsonl"
_LOCK = ".lock"
_MAX_NAME_BYTES = 200  # leaves room for suffixes and temporary names within 255 bytes
_ID_PREFIX = '{"id":"'


def _file_stem(session_id: str) -> str:
    try:
        size = len(session_id.encode())
    except UnicodeEncodeError:
        size = _MAX_NAME_BYTES + 1
    if size > _MAX_NAME_BYTES or session_id.startswith("~"):
        return "~" + hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()
    return session_id


def _event_id(line: str) -> str | None:
    """The id of the event on this line (None if the line is unreadable)."""
    if line.startswith(_ID_PREFIX):
        end = line.find('"', len(_ID_PREFIX))
        candidate = line[len(_ID_PREFIX) : end]
        if end > 0 and "\\" not in candidate:
            return candidate
    try:
        value = json.loads(line)
    except ValueError:
        return None
    found = value.get("id") if isinstance(value, dict) else None
    return found if isinstance(found, str) else None


def _event_time(line: str) -> datetime | None:
    try:
        return datetime.fromisoformat(json.loads(line)["timestamp"])
    except (ValueError, KeyError, TypeError):
        return None


@dataclass
class _Log:
    """What this store object has read of one session's event file."""

    generation: str
    inode: int = -1
    offset: int = 0
    lines: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    last_line: str | None = None
    _last_time: tuple[str, datetime | None] | None = None

    def last_time(self) -> datetime | None:
        """The timestamp of the event on the file's last line (parsed once)."""
        line = self.last_line
        if line is None:
            return None
        if self._last_time is None or self._last_time[0] is not line:
            self._last_time = (line, _event_time(line))
        return self._last_time[1]

    def consume(self, lines: list[str]) -> None:
        for line in lines:
            if not line:
                continue
            event_id = _event_id(line)
            position = self.index.get(event_id) if event_id is not None else None
            if position is not None:
                self.lines[position] = line
            else:
                if event_id is not None:
                    self.index[event_id] = len(self.lines)
                self.lines.append(line)
            self.last_line = line

    def plan(self, batch: WriteBatch) -> list[str]:
        """The lines a batch adds: edits of events in the file, then events not yet in it."""
        lines = [text for event_id, text in batch.updated if event_id in self.index]
        seen: set[str] = set()
        for event_id, text in batch.appended:
            if event_id not in self.index and event_id not in seen:
                seen.add(event_id)
                lines.append(text)
        return lines

    def copy(self) -> _Log:
        return _Log(
            self.generation,
            self.inode,
            self.offset,
            list(self.lines),
            dict(self.index),
            self.last_line,
        )


# -- the header document -----------------------------------------------------------------------


def _new_header(session_id: str, changes: HeaderChanges) -> dict[str, Any]:
    return {
        "id": session_id,
        "generation": uuid.uuid4().hex,
        "created_at": changes.created_at.isoformat(),
        "updated_at": changes.updated_at.isoformat(),
        "log_offset": 0,
        "parent_id": None,
        "child_ids": [],
        "task_ids": [],
        "runs": {},
        "state": {},
        "properties": {},
        "expires_at": None,
    }


def _merge_ids(target: list[str], added: list[str], removed: list[str]) -> None:
    target.extend(item for item in dict.fromkeys(added) if item not in target)
    gone = set(removed)
    target[:] = [item for item in target if item not in gone]


def _merge_header(doc: dict[str, Any], changes: HeaderChanges) -> bool:
    """Merge a batch's header changes into ``doc``; True if anything but time changed."""
    changed = changes.parent_changed and doc["parent_id"] != changes.parent_id
    if changes.parent_changed:
        doc["parent_id"] = changes.parent_id
    _merge_ids(doc["child_ids"], changes.children_added, changes.children_removed)
    _merge_ids(doc["task_ids"], changes.tasks_added, changes.tasks_removed)
    for key, removed, upserted in (
        ("runs", changes.runs_removed, changes.runs_upserted),
        ("state", changes.state_removed, changes.state_set),
        ("properties", changes.properties_removed, changes.properties_set),
    ):
        target = doc[key]
        for name in removed:
            target.pop(name, None)
        for name, text in upserted.items():
            target[name] = json.loads(text)
        changed = changed or bool(removed or upserted)
    return changed or bool(
        changes.children_added
        or changes.children_removed
        or changes.tasks_added
        or changes.tasks_removed
    )


def _updated_at(doc: dict[str, Any], log: _Log) -> datetime:
    """The header's ``updated_at``, or the last event's time if events were appended since."""
    stamp = datetime.fromisoformat(doc["updated_at"])
    if log.offset > doc.get("log_offset", 0):
        last = log.last_time()
        if last is not None and last > stamp:
            return last
    return stamp


def _expired(doc: dict[str, Any], now: float) -> bool:
    expires = doc.get("expires_at")
    return expires is not None and expires <= now


def _stored(doc: dict[str, Any], log: _Log, location: str) -> StoredSession:
    try:
        header = StoredHeader(
            created_at=datetime.fromisoformat(doc["created_at"]),
            updated_at=_updated_at(doc, log),
            parent_id=doc["parent_id"],
            child_ids=list(doc["child_ids"]),
            task_ids=list(doc["task_ids"]),
            runs=[json.dumps(run) for run in doc["runs"].values()],
            state=dict(doc["state"]),
            properties=dict(doc["properties"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        logger.warning("Unreadable session header at %s: %r", location, exc)
        raise CorruptSessionData(location, repr(exc)) from exc
    return StoredSession(header, list(log.lines), location)


# -- file primitives (run in worker threads) ---------------------------------------------------


@contextmanager
def _locked(path: str, exclusive: bool) -> Iterator[None]:
    """Hold a flock on ``path``; retries if the file was deleted while we waited for it.

    A writer creates the store's folder if it is missing."""
    mode = os.O_RDWR if exclusive else os.O_RDONLY  # readers need no write access
    while True:
        try:
            fd = os.open(path, mode | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except FileNotFoundError:
            if not exclusive:
                raise
            os.makedirs(os.path.dirname(path), exist_ok=True)
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            current = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            current = False
        except BaseException:
            os.close(fd)
            raise
        if current:
            break
        os.close(fd)
    try:
        yield
    finally:
        os.close(fd)


def _read_header(path: str) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return None
    try:
        doc = json.loads(raw)
        if not isinstance(doc, dict) or not all(
            isinstance(doc.get(key), str) for key in ("id", "generation")
        ):
            raise ValueError("not a session header")
    except ValueError as exc:
        logger.warning("Unreadable session header at %s: %s", path, exc)
        raise CorruptSessionData(str(path), str(exc)) from exc
    return doc


def _write_atomically(path: str, data: bytes) -> None:
    folder, name = os.path.split(path)
    temporary = os.path.join(folder, f".{name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        _unlink(temporary)
        raise


def _append(path: str, data: bytes, fsync: bool) -> int:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if fsync:
            os.fsync(fd)
        return os.fstat(fd).st_ino
    finally:
        os.close(fd)


def _unlink(*paths: str) -> bool:
    found = False
    for path in paths:
        try:
            os.unlink(path)
            found = True
        except FileNotFoundError:
            pass
    return found


@dataclass(frozen=True)
class _Files:
    header: str
    events: str
    lock: str

    @classmethod
    def at(cls, directory: str, stem: str) -> _Files:
        base = os.path.join(directory, stem)
        return cls(base + _HEADER, base + _EVENTS, base + _LOCK)


class FileSessionStore(EventLogStore):
    """Sessions as files in ``directory``: appends never rewrite a session, several processes
    can write one session at once, and a retried save never duplicates an event.

    With ``auto_save=False`` saves are kept in memory (``get`` sees them) until ``flush()``
    or ``close()``. ``fsync`` (default True) makes every acknowledged append survive a power
    loss; without it an append survives a crash of the process but not of the machine.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        session_class: type[Session[Any]] = Session,
        auto_save: bool = True,
        expiration_seconds: float | None = None,
        *,
        fsync: bool = True,
        cache_size: int = 32,
    ) -> None:
        if os.name != "posix":
            raise StorageError("FileSessionStore needs a POSIX system (fcntl.flock)")
        super().__init__(session_class=session_class, expiration_seconds=expiration_seconds)
        self.directory = Path(directory)
        self._folder = os.fspath(directory)
        self.auto_save = auto_save
        self.fsync = fsync
        self._cache_size = cache_size
        self._logs: OrderedDict[str, _Log] = OrderedDict()
        self._pending: dict[str, list[WriteBatch]] = {}
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    # -- public API ----------------------------------------------------------------------------

    async def delete(self, session_id: str) -> bool:
        validate_id(session_id)
        self._ensure_open()
        dropped = self._pending.pop(session_id, None) is not None
        async with self._lock_for(session_id):
            self._logs.pop(session_id, None)
            return await self._run(self._delete_files, session_id) or dropped

    async def list_sessions(self, prefix: str = "") -> list[str]:
        self._ensure_open()
        found = set(await self._run(self._list_files, prefix))
        found.update(sid for sid in self._pending if sid.startswith(prefix))
        return sorted(found)

    async def set_expiration(self, session_id: str, seconds: float | None) -> bool:
        validate_id(session_id)
        self._ensure_open()
        if seconds is not None and seconds <= 0:
            raise InvalidInputError("seconds", seconds, "must be > 0 (or None: never)")
        await self._flush_session(session_id)
        async with self._lock_for(session_id):
            return await self._run(self._set_expiry, session_id, seconds)

    async def flush(self) -> None:
        """Write the saves buffered by ``auto_save=False``, oldest first."""
        self._ensure_open()
        for session_id in list(self._pending):
            await self._flush_session(session_id)

    def clear_cache(self) -> None:
        """Forget what was read of the event files (they are re-read on next use)."""
        self._logs.clear()

    async def vacuum(self) -> int:
        """Move unreadable data into ``quarantine/``; returns how many files were affected.

        A session whose header cannot be read has its header and event file moved; unreadable
        lines of an event file are moved to a ``.bad`` file and the log keeps the rest.
        """
        self._ensure_open()
        await self.flush()
        self.clear_cache()
        return await self._run(self._vacuum_files)

    async def close(self) -> None:
        """Write any buffered saves, then close the store (idempotent)."""
        if self._pending and self.state is StoreState.OPEN:
            await self.flush()
        await super().close()

    # -- EventLogStore -------------------------------------------------------------------------

    async def _read(self, session_id: str) -> StoredSession | None:
        location = str(self._files(session_id).header)
        async with self._lock_for(session_id):  # a worker thread may update the cached log
            found = await self._run(self._read_files, session_id, self._logs.get(session_id))
            if found is not None:
                self._remember(session_id, found[1])
            pending = self._pending.get(session_id)
            if pending:
                doc, log = found if found is not None else (None, _Log(""))
                found = _apply_in_memory(session_id, doc, log.copy(), pending)
            return None if found is None else _stored(found[0], found[1], location)

    async def _write(self, batch: WriteBatch) -> None:
        validate_id(batch.session_id)
        if self.auto_save:
            await self._write_now(batch)
        else:
            self._pending.setdefault(batch.session_id, []).append(batch)

    # -- plumbing ------------------------------------------------------------------------------

    async def _flush_session(self, session_id: str) -> None:
        batches = self._pending.get(session_id, [])
        while batches:
            await self._write_now(batches[0])
            batches.pop(0)  # only once written: a failed flush can be retried
        self._pending.pop(session_id, None)

    async def _write_now(self, batch: WriteBatch) -> None:
        async with self._lock_for(batch.session_id):
            log = await self._run(self._write_files, batch, self._logs.get(batch.session_id))
            self._remember(batch.session_id, log)

    async def _run(self, work: Callable[..., _T], *args: Any) -> _T:
        try:
            return await asyncio.to_thread(work, *args)
        except OSError as exc:
            raise StorageError(f"File store {self.directory}: {exc}") from exc

    def _lock_for(self, session_id: str) -> asyncio.Lock:
        lock = self._locks.get(session_id)
        if lock is None:
            lock = self._locks[session_id] = asyncio.Lock()
        return lock

    def _remember(self, session_id: str, log: _Log) -> None:
        self._logs[session_id] = log
        self._logs.move_to_end(session_id)
        while len(self._logs) > self._cache_size:
            self._logs.popitem(last=False)

    def _files(self, session_id: str) -> _Files:
        validate_id(session_id)  # again here: no path is ever built from an unchecked id
        return _Files.at(self._folder, _file_stem(session_id))

    # -- work done in threads ------------------------------------------------------------------

    def _refresh(self, files: _Files, generation: str, log: _Log | None, repair: bool) -> _Log:
        """Read the lines appended since ``log`` was last brought up to date."""
        if log is None or log.generation != generation:
            log = _Log(generation)
        try:
            seen = os.stat(files.events)
            if seen.st_ino == log.inode and seen.st_size == log.offset:
                return log  # nothing new (the common case for this store's own writes)
            handle = open(files.events, "rb")
        except FileNotFoundError:
            return _Log(generation)
        with handle:
            inode = os.fstat(handle.fileno()).st_ino
            if inode != log.inode:
                log = _Log(generation, inode)
            handle.seek(log.offset)
            data = handle.read()
        end = data.rfind(b"\n") + 1
        if end:
            log.consume(data[:end].decode("utf-8", "surrogateescape").split("\n"))
            log.offset += end
        if repair and end < len(data):
            self._quarantine_torn_tail(files.events, log.offset, data[end:])
        return log

    def _quarantine_torn_tail(self, path: str, offset: int, tail: bytes) -> None:
        # Only called under the exclusive lock: no live writer can be mid-append.
        target = self._quarantine_path(os.path.basename(path) + f".torn-{offset}")
        target.write_bytes(tail)
        os.truncate(path, offset)
        logger.warning(
            "Incomplete last line of %s (a crash mid-append?): %d bytes moved to %s",
            path,
            len(tail),
            target,
        )

    def _read_files(self, session_id: str, log: _Log | None) -> tuple[dict[str, Any], _Log] | None:
        files = self._files(session_id)
        if not os.path.exists(files.header):
            return None
        with _locked(files.lock, exclusive=False):
            doc = _read_header(files.header)
            if doc is None or _expired(doc, time.time()):
                return None
            return doc, self._refresh(files, doc["generation"], log, repair=False)

    def _write_files(self, batch: WriteBatch, log: _Log | None) -> _Log:
        files = self._files(batch.session_id)
        with _locked(files.lock, exclusive=True):
            doc = _read_header(files.header)
            if doc is not None and _expired(doc, time.time()):
                _unlink(files.events)  # an expired session is gone: start afresh
                doc = None
            fresh = doc is None
            if doc is None:
                doc = _new_header(batch.session_id, batch.header)
            log = self._refresh(files, doc["generation"], log, repair=True)
            current = _updated_at(doc, log)
            changed = _merge_header(doc, batch.header) or fresh
            lines = log.plan(batch)
            if lines:
                data = "".join(line + "\n" for line in lines).encode()
                if data.count(b"\n") != len(lines):
                    raise StorageError("an event's JSON must not contain a raw newline")
                log.inode = _append(files.events, data, self.fsync)
                log.consume(lines)
                log.offset += len(data)
            # The header is rewritten only when it must be: an append whose event carries the
            # session's new updated_at leaves the header alone (the reader derives that time
            # from the last line), so a plain append costs one write, not two.
            target = max(current, batch.header.updated_at)
            if changed or self.expiration_seconds is not None or _updated_at(doc, log) != target:
                doc["updated_at"] = target.isoformat()
                doc["log_offset"] = log.offset
                if self.expiration_seconds is not None:
                    doc["expires_at"] = time.time() + self.expiration_seconds
                _write_atomically(files.header, json.dumps(doc).encode())
        return log

    def _delete_files(self, session_id: str) -> bool:
        files = self._files(session_id)
        if not (os.path.exists(files.header) or os.path.exists(files.events)):
            return False
        with _locked(files.lock, exclusive=True):
            try:
                doc = _read_header(files.header)
                existed = doc is not None and not _expired(doc, time.time())
            except CorruptSessionData:
                existed = True
            removed = _unlink(files.header, files.events)
            _unlink(files.lock)  # waiters notice the unlinked lock file and retry
        return existed and removed

    def _set_expiry(self, session_id: str, seconds: float | None) -> bool:
        files = self._files(session_id)
        if not os.path.exists(files.header):
            return False
        with _locked(files.lock, exclusive=True):
            doc = _read_header(files.header)
            now = time.time()
            if doc is None or _expired(doc, now):
                return False
            doc["expires_at"] = None if seconds is None else now + seconds
            _write_atomically(files.header, json.dumps(doc).encode())
        return True

    def _list_files(self, prefix: str) -> list[str]:
        found: list[str] = []
        now = time.time()
        for path, stem in self._header_files():
            if not stem.startswith("~") and not stem.startswith(prefix):
                continue
            try:
                doc = _read_header(path)
            except CorruptSessionData:
                if not stem.startswith("~"):
                    found.append(stem)  # still there, and ``delete`` can remove it
                continue
            if doc is None or _expired(doc, now):
                continue
            session_id = stem if not stem.startswith("~") else str(doc.get("id", ""))
            if session_id.startswith(prefix):
                found.append(session_id)
        return found

    def _header_files(self) -> Iterator[tuple[str, str]]:
        try:
            entries = list(os.scandir(self._folder))
        except FileNotFoundError:
            return
        for entry in entries:
            name = entry.name
            if not name.endswith(_HEADER) or not entry.is_file():
                continue
            stem = name[: -len(_HEADER)]
            try:
                validate_id(stem)
            except InvalidSessionId:
                continue  # not one of ours (for example ``.json``)
            yield entry.path, stem

    def _quarantine_path(self, name: str) -> Path:
        folder = self.directory / "quarantine"
        folder.mkdir(exist_ok=True)
        return folder / f"{name}.{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"

    def _vacuum_files(self) -> int:
        moved = 0
        event_list: Any = self.session_class.model_fields["events"].annotation
        adapter: TypeAdapter[list[Any]] = TypeAdapter(event_list)
        for _, stem in list(self._header_files()):
            files = _Files.at(self._folder, stem)
            with _locked(files.lock, exclusive=True):
                moved += self._vacuum_session(files, adapter)
        return moved

    def _vacuum_session(self, files: _Files, adapter: TypeAdapter[list[Any]]) -> int:
        try:
            doc = _read_header(files.header)
            if doc is None:
                return 0
            log = self._refresh(files, doc["generation"], None, repair=True)
            header_only = replace(_stored(doc, log, str(files.header)), events=[])
            build_session(self.session_class, doc["id"], header_only, self)
        except CorruptSessionData:
            unreadable = [path for path in (files.header, files.events) if os.path.exists(path)]
            for path in unreadable:
                os.replace(path, self._quarantine_path(os.path.basename(path)))
            return len(unreadable)
        if not self._vacuum_events(files.events, adapter):
            return 0
        # The log was rewritten: pin the time the reader derived from its old last line.
        doc["updated_at"] = _updated_at(doc, log).isoformat()
        doc["log_offset"] = os.stat(files.events).st_size
        _write_atomically(files.header, json.dumps(doc).encode())
        return 1

    def _vacuum_events(self, path: str, adapter: TypeAdapter[list[Any]]) -> bool:
        good: list[bytes] = []
        bad: list[bytes] = []
        for line in Path(path).read_bytes().split(b"\n") if os.path.exists(path) else []:
            try:
                if line:
                    adapter.validate_json(b"[" + line + b"]")
                    good.append(line)
            except (ValidationError, ValueError):
                bad.append(line)
        if bad:
            target = self._quarantine_path(os.path.basename(path) + ".bad")
            target.write_bytes(b"".join(line + b"\n" for line in bad))
            _write_atomically(path, b"".join(line + b"\n" for line in good))
            logger.warning("Moved %d unreadable lines of %s to %s", len(bad), path, target)
        return bool(bad)


def _apply_in_memory(
    session_id: str, doc: dict[str, Any] | None, log: _Log, batches: list[WriteBatch]
) -> tuple[dict[str, Any], _Log]:
    """Stored data as it will be once the buffered ``batches`` are written."""
    for batch in batches:
        if doc is None:
            doc = _new_header(session_id, batch.header)
        current = _updated_at(doc, log)
        _merge_header(doc, batch.header)
        log.consume(log.plan(batch))
        doc["updated_at"] = max(current, batch.header.updated_at).isoformat()
        doc["log_offset"] = log.offset
    assert doc is not None  # there is at least one batch
    return doc, log


async def create_file_session_store(
    directory: str | os.PathLike[str], **kwargs: Any
) -> FileSessionStore:
    """A ``FileSessionStore`` on ``directory`` (keyword arguments as for the class)."""
    return FileSessionStore(directory, **kwargs)
