"""What one failed attempt of a tool call leaves behind: the exception and a bounded traceback.

A failure is recorded in the TOOL_CALL event for every attempt, so a retried call shows each
error it went through. Tracebacks are cut to their last ``MAX_TRACEBACK_BYTES`` (the frames
nearest the error) and file paths are made relative to the ``sys.path`` entry they come from,
so records do not carry one machine's directory layout. They are never sent to the model.
"""

from __future__ import annotations

import os
import sys
import traceback

from pydantic import BaseModel, ConfigDict

__all__ = ["MAX_TRACEBACK_BYTES", "AttemptFailure", "format_traceback"]

#: The most of a traceback kept per attempt, in bytes of UTF-8 (the end of it is kept).
MAX_TRACEBACK_BYTES = 8 * 1024
_CUT_MARK = "…(earlier frames cut)\n"


class AttemptFailure(BaseModel):
    """One failed attempt: its number (1-based), the exception type and message, and the
    formatted traceback (None for a timeout, which has no exception of the tool's own)."""

    model_config = ConfigDict(frozen=True)

    attempt: int
    exception_type: str
    message: str
    traceback: str | None = None


def format_traceback(exc: BaseException, limit: int = MAX_TRACEBACK_BYTES) -> str:
    """``exc``'s traceback as text: paths relative to their import root, at most ``limit``
    bytes (the last ones)."""
    summary = traceback.TracebackException.from_exception(exc)
    for frame in summary.stack:
        frame.filename = _relative_path(frame.filename)
    text = "".join(summary.format())
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    tail = encoded[len(encoded) - (limit - len(_CUT_MARK.encode())) :]
    return _CUT_MARK + tail.decode(errors="ignore")


def _relative_path(filename: str) -> str:
    """``filename`` relative to the longest ``sys.path`` entry that contains it."""
    if not os.path.isabs(filename):
        return filename
    roots = sorted((os.path.abspath(entry) for entry in sys.path if entry), key=len, reverse=True)
    for root in roots:
        if filename.startswith(root + os.sep):
            return os.path.relpath(filename, root)
    return os.path.basename(filename)
