"""Cutting an existing list of chat messages down to a token budget."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..exceptions import TokenLimitExceeded
from ._budget import Candidate, PromptPlan, fit_plan
from ._render import ChatRole, Message

__all__ = ["truncate_messages"]

_TOOL = ChatRole.TOOL.value
logger = logging.getLogger(__name__)


def truncate_messages(
    prompt: Sequence[Mapping[str, Any]], max_tokens: int, model: str
) -> list[Message]:
    """The first system message and the newest user message, then the newest messages that
    fit. A message is kept or dropped together with the ``tool`` messages that follow it, so
    an assistant tool call is never separated from its results. Only what is looked at is
    copied: a long prompt costs no more than a short one.

    When the newest user message alone is over the budget, the shortest prompt there is comes
    back: that message alone (with a warning logged), never an exception."""
    users = (i for i in range(len(prompt) - 1, -1, -1) if _role(prompt[i]) == ChatRole.USER)
    systems = (i for i in range(len(prompt)) if _role(prompt[i]) == ChatRole.SYSTEM)
    required = _unit_at(prompt, next(users, None))
    system = _unit_at(prompt, next(systems, None))
    priority = [system] if system is not None else []
    try:
        return fit_plan(PromptPlan(required, priority, _newest_first(prompt)), max_tokens, model)
    except TokenLimitExceeded as exc:
        logger.warning(
            "The newest user message alone needs %d tokens, over the budget of %d; "
            "returning the shortest prompt there is",
            exc.actual,
            exc.limit,
        )
        return required.messages if required is not None else []


def _role(message: Mapping[str, Any]) -> Any:
    return message.get("role")


def _unit_at(prompt: Sequence[Mapping[str, Any]], start: int | None) -> Candidate | None:
    """The message at ``start`` with the tool messages right after it."""
    if start is None:
        return None
    end = start + 1
    while end < len(prompt) and _role(prompt[end]) == _TOOL:
        end += 1
    return Candidate((start, 0), [dict(message) for message in prompt[start:end]])


def _newest_first(prompt: Sequence[Mapping[str, Any]]) -> Iterator[Candidate]:
    end = len(prompt)
    for start in range(len(prompt) - 1, -1, -1):
        if start > 0 and _role(prompt[start]) == _TOOL:
            continue
        yield Candidate((start, 0), [dict(message) for message in prompt[start:end]])
        end = start
