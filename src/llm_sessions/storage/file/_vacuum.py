"""The file store's quarantine: unreadable files and event lines moved aside, not deleted."""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from .._records import is_sealed_row
from .._removals import is_removal_row
from ._io import write_atomically

__all__ = ["quarantine_files", "quarantine_path", "vacuum_events"]

logger = logging.getLogger("llm_sessions.storage")


def quarantine_path(directory: Path, name: str) -> Path:
    """A new path in ``directory``'s ``quarantine`` folder for a file called ``name``."""
    folder = directory / "quarantine"
    folder.mkdir(exist_ok=True)
    return folder / f"{name}.{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"


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
