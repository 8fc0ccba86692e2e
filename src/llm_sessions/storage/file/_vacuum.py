"""The file store's quarantine: unreadable files and event lines moved aside, not deleted."""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from .._records import is_sealed_row
from .._removals import is_removal_row
from ._io import write_atomically

__all__ = ["drop_quarantined", "quarantine_files", "quarantine_path", "vacuum_events"]

logger = logging.getLogger("llm_sessions.storage")


_MOVED = re.compile(r"(?P<name>.+)\.\d{8}T\d{6}-[0-9a-f]{8}")
"""A quarantined file's name: the name it had, then when it was moved and a random tag."""
_PARTS = re.compile(r"\.json|\.events\.jsonl(\.bad|\.torn-\d+)?")
"""What follows a session's file stem in the names its quarantined files had."""


def quarantine_path(directory: Path, name: str) -> Path:
    """A new path in ``directory``'s ``quarantine`` folder for a file called ``name``."""
    folder = directory / "quarantine"
    folder.mkdir(exist_ok=True)
    return folder / f"{name}.{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"


def drop_quarantined(directory: Path, stems: Iterable[str], names: Iterable[str] = ()) -> int:
    """Delete the quarantined files of the sessions whose file stems are ``stems`` (their
    headers, logs, unreadable lines and torn tails) and those once called one of ``names``;
    returns how many went."""
    folder = directory / "quarantine"
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return 0
    wanted, exact = set(stems), set(names)
    dropped = 0
    for entry in entries:
        moved = _MOVED.fullmatch(entry.name)
        if moved is None or not entry.is_file():
            continue
        name = moved["name"]
        if name in exact or any(_is_part(name, stem) for stem in _stems_in(name, wanted)):
            os.unlink(entry.path)
            dropped += 1
    return dropped


def _stems_in(name: str, stems: set[str]) -> Iterable[str]:
    # The stems ``name`` could begin with: cut at each "." (a stem may hold dots too).
    return (name[:at] for at, char in enumerate(name) if char == "." and name[:at] in stems)


def _is_part(name: str, stem: str) -> bool:
    return _PARTS.fullmatch(name, len(stem)) is not None


def quarantine_files(directory: Path, paths: Iterable[str]) -> int:
    """Move the files of ``paths`` that exist to the quarantine; returns how many moved."""
    unreadable = [path for path in paths if os.path.exists(path)]
    for path in unreadable:
        os.replace(path, quarantine_path(directory, os.path.basename(path)))
    return len(unreadable)


def vacuum_events(directory: Path, path: str, adapter: TypeAdapter[list[Any]]) -> bool:
    """Move the unreadable lines of the event log at ``path`` to the quarantine.

    Returns:
        Whether any line was moved (the log was rewritten).
    """
    good: list[bytes] = []
    bad: list[bytes] = []
    for line in Path(path).read_bytes().split(b"\n") if os.path.exists(path) else []:
        try:
            if line:
                if not is_removal_row(line) and not is_sealed_row(line):
                    adapter.validate_json(b"[" + line + b"]")
                good.append(line)
        except (ValidationError, ValueError):
            bad.append(line)
    if bad:
        target = quarantine_path(directory, os.path.basename(path) + ".bad")
        target.write_bytes(b"".join(line + b"\n" for line in bad))
        write_atomically(path, b"".join(line + b"\n" for line in good))
        logger.warning("Moved %d unreadable lines of %s to %s", len(bad), path, target)
    return bool(bad)
