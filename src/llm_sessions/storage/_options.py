"""The six constructor options every durable store shares, checked in one place."""

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

__all__ = ["DEFAULT_MAX_EVENT_BYTES", "StoreOptionArgs", "StoreOptions", "take_options"]

#: The largest event (its JSON, in bytes) a durable store accepts unless told otherwise.
DEFAULT_MAX_EVENT_BYTES = 4 * 1024 * 1024


class StoreOptionArgs(TypedDict, total=False):
    """The shared options a durable store takes by keyword (see ``StoreOptions``)."""

    max_event_bytes: int | None
    timeout: float
    encryption_key: KeyInput | Sequence[KeyInput] | None
    redact: Redactor | None


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

    Raises:
        InvalidInputError: an option is out of range, naming the option, its value and the limit.
    """

    session_class: type[Session[Any]] = Session
    expiration_seconds: float | None = None
    max_event_bytes: int | None = DEFAULT_MAX_EVENT_BYTES
    timeout: float = DEFAULT_TIMEOUT
    encryption_key: KeyInput | Sequence[KeyInput] | None = None
    redact: Redactor | None = None

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


def take_options(settings: dict[str, Any]) -> StoreOptionArgs:
    """Take the shared options out of a store's other keyword arguments.

    Args:
        settings: keyword arguments; the ``StoreOptionArgs`` keys are removed from it.

    Returns:
        The removed options.
    """
    taken = {key: settings.pop(key) for key in StoreOptionArgs.__optional_keys__ if key in settings}
    return cast(StoreOptionArgs, taken)
