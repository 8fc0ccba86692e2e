"""The constructor options every durable store shares, checked in one place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict, cast

from ..exceptions import InvalidInputError
from ..models._session import Session
from ..validation import validate_seconds
from ._encryption import KeyInput
from ._faults import DEFAULT_TIMEOUT, check_timeout
from ._redaction import Redactor, check_redactor

__all__ = [
    "DEFAULT_MAX_EVENT_BYTES",
    "DEFAULT_MAX_SCAN_EVENTS",
    "SEARCH_INDEX_MODES",
    "StoreOptionArgs",
    "StoreOptions",
    "take_options",
]

#: The largest event (its JSON, in bytes) a durable store accepts unless told otherwise.
DEFAULT_MAX_EVENT_BYTES = 4 * 1024 * 1024
#: The most events a search without ``where`` reads in a store without a text index.
DEFAULT_MAX_SCAN_EVENTS = 100_000
#: ``search_index`` values besides None (index unless the store is encrypted).
SEARCH_INDEX_MODES = ("plaintext", "off")


class StoreOptionArgs(TypedDict, total=False):
    """The shared options a durable store takes by keyword (see ``StoreOptions``)."""

    max_event_bytes: int | None
    timeout: float
    encryption_key: KeyInput | Sequence[KeyInput] | None
    redact: Redactor | None
    search_index: str | None
    max_scan_events: int


@dataclass(frozen=True)
class StoreOptions:
    """What every durable store (file, SQLite, Redis, PostgreSQL) is configured with.

    Args:
        session_class: the ``Session`` subclass the store builds when it reads.
        expiration_seconds: how long a session lives after its last save (None: for ever).
        max_event_bytes: the largest event JSON a save accepts (None: no limit).
        timeout: seconds any one store operation may take.
        encryption_key: a key, or keys with the current one first (None: the environment's
            ``LLM_SESSIONS_ENCRYPTION_KEY``, if set).
        redact: a function of one string that takes secrets out of new events.
        search_index: None to keep a text index for ``search`` unless the store is
            encrypted; ``"plaintext"`` to keep it also in an encrypted store (the index then
            holds the events' text in clear: a trade-off); ``"off"`` to keep none.
        max_scan_events: the most events a search without ``where`` reads, in stores that
            answer it by reading events (file, Redis).

    Raises:
        InvalidInputError: an option is out of range, naming the option, its value and the limit.
    """

    session_class: type[Session[Any]] = Session
    expiration_seconds: float | None = None
    max_event_bytes: int | None = DEFAULT_MAX_EVENT_BYTES
    timeout: float = DEFAULT_TIMEOUT
    encryption_key: KeyInput | Sequence[KeyInput] | None = None
    redact: Redactor | None = None
    search_index: str | None = None
    max_scan_events: int = DEFAULT_MAX_SCAN_EVENTS

    def __post_init__(self) -> None:
        size = self.max_event_bytes
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size <= 0):
            raise InvalidInputError(
                "max_event_bytes", size, "must be a whole number of bytes > 0 or None"
            )
        seconds = validate_seconds(self.expiration_seconds, "expiration_seconds")
        object.__setattr__(self, "expiration_seconds", seconds)
        object.__setattr__(self, "timeout", check_timeout(self.timeout))
        object.__setattr__(self, "redact", check_redactor(self.redact))
        if self.search_index is not None and self.search_index not in SEARCH_INDEX_MODES:
            raise InvalidInputError(
                "search_index", self.search_index, "must be None, 'plaintext' or 'off'"
            )
        most = self.max_scan_events
        if isinstance(most, bool) or not isinstance(most, int) or most <= 0:
            raise InvalidInputError("max_scan_events", most, "must be a whole number > 0")


def take_options(settings: dict[str, Any]) -> StoreOptionArgs:
    """Take the shared options out of a store's other keyword arguments.

    Args:
        settings: keyword arguments; the ``StoreOptionArgs`` keys are removed from it.

    Returns:
        The removed options.
    """
    taken = {key: settings.pop(key) for key in StoreOptionArgs.__optional_keys__ if key in settings}
    return cast(StoreOptionArgs, taken)
