"""Token costs of chat messages (cached) and fitting candidate messages into a token budget."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import TokenLimitExceeded
from ..tokens import count_chat_message, count_chat_messages
from ._groups import Position
from ._render import Message

__all__ = [
    "Candidate",
    "MessageTokenCache",
    "PromptPlan",
    "fit_plan",
    "message_cache",
    "prompt_tokens",
]


class MessageTokenCache:
    """A bounded LRU of chat-message token counts, keyed by model and the message's content.

    Keyed by content rather than by event id, a count can never go stale when an event is
    edited; the content strings of stored events are the same objects every time, so their
    hashes are computed once.
    """

    def __init__(self, maxsize: int = 8192) -> None:
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._counts: OrderedDict[Hashable, int] = OrderedDict()
        self._lock = threading.Lock()

    def tokens(self, message: Mapping[str, Any], model: str) -> int:
        """What ``message`` adds to a prompt for ``model`` (``count_chat_message``)."""
        key = (model, _content_key(message))
        with self._lock:
            found = self._counts.get(key)
            if found is not None:
                self._counts.move_to_end(key)
                self.hits += 1
                return found
        tokens = count_chat_message(message, model)
        with self._lock:
            self.misses += 1
            self._counts[key] = tokens
            if len(self._counts) > self.maxsize:
                self._counts.popitem(last=False)
        return tokens

    def clear(self) -> None:
        """Forget every count."""
        with self._lock:
            self._counts.clear()
            self.hits = self.misses = 0


def _content_key(message: Mapping[str, Any]) -> Hashable:
    if all(value is None or type(value) is str for value in message.values()):
        return tuple(message.items())
    return json.dumps(message, ensure_ascii=False, sort_keys=True, default=repr)


message_cache = MessageTokenCache()
"""The process-wide cache every prompt build uses."""


def prompt_tokens(messages: Iterable[Mapping[str, Any]], model: str) -> int:
    """Tokens of ``messages`` as a prompt; equals ``count_chat_messages(messages, model)``."""
    return _primer(model) + sum(message_cache.tokens(message, model) for message in messages)


def _primer(model: str) -> int:
    return count_chat_messages((), model).tokens


@dataclass(slots=True)
class Candidate:
    """Messages kept or dropped together; ``fallbacks`` are smaller versions to try instead."""

    position: Position
    messages: list[Message]
    fallbacks: tuple[list[Message], ...] = ()

    def versions(self) -> Iterable[list[Message]]:
        """The messages, then each fallback, largest first."""
        yield self.messages
        yield from self.fallbacks


@dataclass(slots=True)
class PromptPlan:
    """What a strategy offers a prompt, in the order the budget serves it.

    ``required`` (the newest user message) is always kept; each ``priority`` candidate is kept
    if it fits; ``rest`` comes newest first and stops at the first candidate that does not fit,
    so what is dropped is always the oldest part.
    """

    required: Candidate | None
    priority: list[Candidate] = field(default_factory=list)
    rest: Iterable[Candidate] = ()


def fit_plan(plan: PromptPlan, max_tokens: int | None, model: str) -> list[Message]:
    """The plan's messages in session order, within ``max_tokens`` when given.

    Raises ``TokenLimitExceeded`` when the required message alone is over the budget.
    """
    if max_tokens is None:
        chosen = _everything(plan)
    else:
        chosen = _within_budget(plan, max_tokens, model)
    chosen.sort(key=lambda item: item[0])
    return [message for _, messages in chosen for message in messages]


def _everything(plan: PromptPlan) -> list[tuple[Position, list[Message]]]:
    first = [plan.required] if plan.required is not None else []
    taken = {c.position for c in [*first, *plan.priority]}
    rest = [c for c in plan.rest if c.position not in taken]
    return [(c.position, c.messages) for c in [*first, *plan.priority, *rest]]


def _within_budget(
    plan: PromptPlan, max_tokens: int, model: str
) -> list[tuple[Position, list[Message]]]:
    used = _primer(model)
    chosen: list[tuple[Position, list[Message]]] = []
    if plan.required is not None:
        used += _tokens(plan.required.messages, model)
        chosen.append((plan.required.position, plan.required.messages))
    if used > max_tokens:
        raise TokenLimitExceeded(max_tokens, used)
    for candidate in plan.priority:
        used = _take_first_fitting(candidate, used, max_tokens, model, chosen)
    taken = {position for position, _ in chosen} | {c.position for c in plan.priority}
    for candidate in plan.rest:
        if candidate.position in taken:
            continue
        cost = _tokens(candidate.messages, model)
        if used + cost > max_tokens:
            break
        used += cost
        chosen.append((candidate.position, candidate.messages))
    return chosen


def _take_first_fitting(
    candidate: Candidate,
    used: int,
    max_tokens: int,
    model: str,
    chosen: list[tuple[Position, list[Message]]],
) -> int:
    for messages in candidate.versions():
        cost = _tokens(messages, model)
        if used + cost <= max_tokens:
            chosen.append((candidate.position, messages))
            return used + cost
    return used


def _tokens(messages: Sequence[Mapping[str, Any]], model: str) -> int:
    return sum(message_cache.tokens(message, model) for message in messages)
