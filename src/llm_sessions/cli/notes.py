"""The library's log records as styled lines on stderr while a command runs.

Warnings (unreadable stored data, for example) print as ``note: ...``; ``--verbose`` adds the
library's info and debug records. That a model has no known price is not a note: the tables
that show cost say so.
"""

from __future__ import annotations

import logging

from rich.markup import escape

from ..tokens.pricing import UNPRICED_MODEL_LOG_KEY
from .common import errors

__all__ = ["show_library_logs", "stop_library_logs"]

_LIBRARY_LOGGER = "llm_sessions"
_PREFIX = {
    logging.DEBUG: "[dim]debug:[/]",
    logging.INFO: "[cyan]info:[/]",
    logging.WARNING: "[yellow]note:[/]",
}


class _StyledHandler(logging.Handler):
    def __init__(self, level: int, previous_logger_level: int) -> None:
        super().__init__(level)
        self.previous_logger_level = previous_logger_level

    def emit(self, record: logging.LogRecord) -> None:
        if hasattr(record, UNPRICED_MODEL_LOG_KEY):
            return
        try:
            prefix = _PREFIX.get(record.levelno, "[bold red]error:[/]")
            errors.print(f"{prefix} {escape(record.getMessage())}")
        except Exception:
            self.handleError(record)


def show_library_logs(verbose: bool) -> _StyledHandler:
    """Print the library's log records (warnings and up; everything when ``verbose``) until
    the returned handler is removed with ``stop_library_logs``."""
    logger = logging.getLogger(_LIBRARY_LOGGER)
    handler = _StyledHandler(logging.DEBUG if verbose else logging.WARNING, logger.level)
    if verbose:
        logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    return handler


def stop_library_logs(handler: _StyledHandler) -> None:
    """Undo ``show_library_logs``."""
    logger = logging.getLogger(_LIBRARY_LOGGER)
    logger.removeHandler(handler)
    logger.setLevel(handler.previous_logger_level)
