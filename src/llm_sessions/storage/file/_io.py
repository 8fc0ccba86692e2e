"""File primitives of the file store, called in worker threads, never on the event loop.

A session's paths (``Files``, named by ``file_stem``), its lock file held with ``flock``
(``locked``: exclusively by writers, shared by readers), headers replaced atomically
(``write_atomically``: temporary file, fsync, ``os.replace``) and events appended (``append``).
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ...exceptions import InvalidSessionId, StorageError
from ...validation import validate_id

if os.name == "posix":
    import fcntl

HEADER = ".json"
_EVENTS = ".events.jsonl"
_LOCK = ".lock"
_MAX_NAME_BYTES = 200  # leaves room for suffixes and temporary names within 255 bytes


def file_stem(session_id: str) -> str:
    """The name a session's files share: the id, or ``~`` and its SHA-256 when the id is too
    long for a file name (or starts with ``~``)."""
    try:
        size = len(session_id.encode())
    except UnicodeEncodeError:
        size = _MAX_NAME_BYTES + 1
    if size > _MAX_NAME_BYTES or session_id.startswith("~"):
        return "~" + hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()
    return session_id


@contextmanager
def locked(path: str, exclusive: bool, timeout: float) -> Iterator[None]:
    """Hold a flock on ``path``; retries if the file was deleted while we waited for it.

    A writer creates the store's folder if it is missing. Every wait is bounded: a lock held by
    another process for ``timeout`` seconds, or a folder that exists yet refuses new files
    (``/proc/self``), raises ``StorageError``; nothing spins or blocks for good."""
    deadline = time.monotonic() + timeout
    mode = os.O_RDWR if exclusive else os.O_RDONLY  # readers need no write access
    for _ in range(_LOCK_ATTEMPTS):
        fd = _open_lock_file(path, mode, exclusive)
        if fd is None:
            continue
        try:
            flock_until(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH, deadline, path, timeout)
            current = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            current = False
        except BaseException:
            os.close(fd)
            raise
        if current:
            break
        os.close(fd)
    else:
        raise StorageError(
            f"Could not create and lock {path} in {_LOCK_ATTEMPTS} attempts: the folder "
            "exists but the file keeps vanishing or cannot be created there"
        )
    try:
        yield
    finally:
        os.close(fd)


_LOCK_ATTEMPTS = 100
"""Tries to open and lock a lock file; each retry means another process deleted it (or the
folder refuses new files), so a few are plenty."""


def flock_until(fd: int, operation: int, deadline: float, path: str, timeout: float) -> None:
    """``flock`` that gives up at ``deadline`` (polling: a blocking flock cannot be
    interrupted from another thread)."""
    delay = 0.0005
    while True:
        try:
            fcntl.flock(fd, operation | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise StorageError(
                    f"{path} stayed locked by another writer for {timeout:g} s "
                    "(the store's timeout)"
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.01)


def _open_lock_file(path: str, mode: int, exclusive: bool) -> int | None:
    """The lock file's descriptor, or None if it should be tried again (the folder was missing
    and has been created)."""
    try:
        return os.open(path, mode | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except FileNotFoundError:
        if not exclusive:
            raise
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return None


def write_atomically(path: str, data: bytes) -> None:
    """Replace ``path`` with ``data``: a temporary file, fsync'ed, then ``os.replace``."""
    folder, name = os.path.split(path)
    temporary = os.path.join(folder, f".{name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        unlink(temporary)
        raise


def append(path: str, data: bytes, fsync: bool) -> int:
    """Append ``data`` to ``path`` (created if missing); returns the file's inode."""
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


def unlink(*paths: str) -> bool:
    """Remove the files that exist; True if any did."""
    found = False
    for path in paths:
        try:
            os.unlink(path)
            found = True
        except FileNotFoundError:
            pass
    return found


@dataclass(frozen=True)
class Files:
    """The paths of one session's header, event log and lock file."""

    header: str
    events: str
    lock: str

    @classmethod
    def at(cls, directory: str, stem: str) -> Files:
        base = os.path.join(directory, stem)
        return cls(base + HEADER, base + _EVENTS, base + _LOCK)


def header_files(folder: str) -> Iterator[tuple[str, str]]:
    """The header files in ``folder`` whose names are session ids: (path, file stem)."""
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return
    for entry in entries:
        name = entry.name
        if not name.endswith(HEADER) or not entry.is_file():
            continue
        stem = name[: -len(HEADER)]
        try:
            validate_id(stem)
        except InvalidSessionId:
            continue  # not one of ours (for example ``.json``)
        yield entry.path, stem
