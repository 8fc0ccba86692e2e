"""Redaction: a hook that takes secrets out of event messages before they are counted or written.

A store given ``redact=`` passes every string in each new event's message through it when the
event is added to a session kept in that store (``Session.add_event``: before its tokens are
added to the session's totals), and, for an event that got into the session another way, when
the session is saved (before the event's size is checked and it is encrypted or written). Each
event goes through a given redactor once. An event whose tokens were counted from texts
(``SessionEvent.create_with_tokens``, ``update_token_usage``) is counted again from those texts
redacted, so its token usage is that of what is stored; counts a provider reported are kept.

What was redacted is noted in the event's metadata under ``"redacted"`` as counts by kind
(``{"email": 2}``), never the original value. A redactor is a function of one string returning
the redacted string, or the string and its counts by kind; ``redact_pii`` is a ready one for
email addresses, phone numbers, card numbers (Luhn-checked) and API keys.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..exceptions import InvalidInputError
from ..models._token_usage import CountMethod, TokenUsage

__all__ = ["REDACTED_KEY", "Redactor", "redact_event", "redact_events", "redact_pii"]

REDACTED_KEY = "redacted"
"""Event metadata key of what redaction took out: counts by kind."""

Redactor = Callable[[str], "str | tuple[str, Mapping[str, int]]"]

_API_KEY = re.compile(
    r"\b(?:sk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}"
    r"|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{30,})"
)
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
_CARD = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")
_DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")
_PHONE = re.compile(r"(?<![\w+(])(?:\+?\d{1,3}[ .-]?)?\(?\d{2,4}\)?(?:[ .-]?\d{2,4}){2,3}(?!\w)")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def redact_pii(text: str) -> tuple[str, dict[str, int]]:
    """``text`` with API keys, emails, card numbers and phone numbers replaced by
    ``[REDACTED:<kind>]``, and how many of each were found."""
    found: Counter[str] = Counter()

    def replace(kind: str) -> Callable[[re.Match[str]], str]:
        def mark(match: re.Match[str]) -> str:
            found[kind] += 1
            return f"[REDACTED:{kind}]"

        return mark

    def card(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group())
        if not _luhn_ok(digits):
            return match.group()
        found["card"] += 1
        return "[REDACTED:card]"

    def phone(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group())
        if len(digits) < 7 or _DATE.fullmatch(match.group()):
            return match.group()
        found["phone"] += 1
        return "[REDACTED:phone]"

    text = _API_KEY.sub(replace("api_key"), text)
    text = _EMAIL.sub(replace("email"), text)
    text = _CARD.sub(card, text)
    text = _PHONE.sub(phone, text)
    return text, dict(found)


def check_redactor(redact: object) -> Redactor | None:
    """``redact`` if it is None or callable, else ``InvalidInputError``."""
    if redact is not None and not callable(redact):
        raise InvalidInputError("redact", redact, "must be a function of one string, or None")
    return redact


async def redact_events(events: Sequence[Any], redact: Redactor) -> None:
    """Redact ``events`` in place (see ``redact_event``)."""
    for event in events:
        await redact_event(event, redact)


async def redact_event(event: Any, redact: Redactor) -> None:
    """Redact the message of ``event`` in place, note counts by kind in its metadata, and count
    its tokens again from the redacted texts they were counted from; nothing if ``redact``
    already ran over it."""
    if getattr(event, "_redacted_with", None) is redact:
        return
    found: Counter[str] = Counter()
    message = _redact_value(event.message, redact, found)
    if found:
        event.message = message
        noted = Counter(event.metadata.get(REDACTED_KEY) or {})
        noted.update(found)
        event.metadata = {**event.metadata, REDACTED_KEY: dict(noted)}
    await _recount(event, redact)
    object.__setattr__(event, "_redacted_with", redact)


async def _recount(event: Any, redact: Redactor) -> None:
    usage: TokenUsage | None = event.token_usage
    texts = event.counted_texts()
    if usage is None or texts is None or usage.count_method is CountMethod.REPORTED:
        return
    ignored: Counter[str] = Counter()  # the message's redactions are the ones noted
    prompt, completion = (
        None if text is None else _redact_value(text, redact, ignored) for text in texts
    )
    if (prompt, completion) != texts:
        event.token_usage = await TokenUsage.from_text(prompt, completion, usage.model)
        event.note_counted_texts(prompt, completion)


def _redact_value(value: Any, redact: Redactor, found: Counter[str]) -> Any:
    if isinstance(value, str):
        result = redact(value)
        text, counts = result if isinstance(result, tuple) else (result, None)
        if counts is None and text != value:
            counts = {"custom": 1}
        found.update(counts or {})
        return text
    if isinstance(value, list):
        return [_redact_value(item, redact, found) for item in value]
    if isinstance(value, dict):
        return {key: _redact_value(item, redact, found) for key, item in value.items()}
    return value
