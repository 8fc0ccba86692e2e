"""Replies whose stream was cut (``metadata["incomplete"] is True``) in a prompt.

``"include"`` sends such a reply with its text so far and a note that it was cut off, without
its tool calls (their arguments may be unfinished, and no result answers them); ``"drop"``
leaves it out. The stored event is not changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..exceptions import InvalidInputError
from ..models._session_event import SessionEvent
from ._appended_index import AppendedIndex

__all__ = ["CUT_OFF_NOTE", "INCOMPLETE_MODES", "check_incomplete_mode", "with_incomplete_replies"]

INCOMPLETE_MODES = ("include", "drop")

CUT_OFF_NOTE = "[This reply was cut off before it finished.]"
"""Ends the text of a cut reply in a prompt."""


def check_incomplete_mode(mode: object) -> str:
    """``mode`` if it is one of ``INCOMPLETE_MODES``.

    Raises:
        InvalidInputError: It is not.
    """
    if mode not in INCOMPLETE_MODES:
        raise InvalidInputError("incomplete", mode, 'must be "include" or "drop"')
    return str(mode)


def is_incomplete(event: SessionEvent[Any]) -> bool:
    """Whether ``event`` is a reply whose stream was cut."""
    return event.metadata.get("incomplete") is True


def with_incomplete_replies(
    events: Sequence[SessionEvent[Any]], mode: str, index: AppendedIndex | None = None
) -> Sequence[SessionEvent[Any]]:
    """``events`` with the cut replies marked (``"include"``) or left out (``"drop"``).

    Args:
        events: The events of the prompt, oldest first.
        mode: ``"include"`` or ``"drop"``.
        index: An ``AppendedIndex`` of ``is_incomplete`` kept over these events from one
            prompt to the next, so only the events added since are read (a reply is marked
            when it is appended, and the mark may only go).

    Returns:
        ``events`` itself when none was cut, else a new list.
    """
    if index is not None:
        if not any(is_incomplete(events[n]) for n in index.positions(events)):
            return events
    elif not any(is_incomplete(event) for event in events):
        return events
    if mode == "drop":
        return [event for event in events if not is_incomplete(event)]
    return [_marked(event) if is_incomplete(event) else event for event in events]


def _marked(event: SessionEvent[Any]) -> SessionEvent[Any]:
    message = event.message
    text = message.get("content") if isinstance(message, Mapping) else message
    text = text if isinstance(text, str) else ""
    content = f"{text}\n{CUT_OFF_NOTE}" if text else CUT_OFF_NOTE
    return event.model_copy(update={"message": {"role": "assistant", "content": content}})
