"""The blob references a file store's event logs name, read as text: no session is loaded."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from .._blobs import BLOB_PREFIX, SEALED_MARK, refs_in_rows
from ._io import _EVENTS, Files

__all__ = ["log_refs"]


def log_refs(folder: str, stems: Iterable[str] | None) -> set[str] | None:
    """The references the event logs of the sessions whose file stems are ``stems`` (None:
    of every session in ``folder``) name; None if a line is sealed and could name any.
    Any reference-shaped text counts, so a blob is never taken for unnamed."""
    paths = _every_log(folder) if stems is None else (Files.at(folder, s).events for s in stems)
    return refs_in_rows(_marked_lines(paths))


def _every_log(folder: str) -> Iterator[str]:
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.name.endswith(_EVENTS) and entry.is_file():
            yield entry.path


def _marked_lines(paths: Iterable[str]) -> Iterator[str]:
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as log:
                yield from (line for line in log if BLOB_PREFIX in line or SEALED_MARK in line)
        except FileNotFoundError:
            continue
