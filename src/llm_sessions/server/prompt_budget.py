"""A prompt under a token budget, or a 422 that names the budget and the smallest that fits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ..exceptions import TokenLimitExceeded
from .errors import ApiError

__all__ = ["MAX_BUDGET_PROBES", "prompt_within"]

MAX_BUDGET_PROBES = 8
"""Builds tried to find the smallest budget that fits, after the one that did not."""

Build = Callable[[int | None], Awaitable[list[dict[str, Any]]]]


async def prompt_within(build: Build, max_tokens: int | None) -> list[dict[str, Any]]:
    """``build(max_tokens)``; when the prompt does not fit, a 422 naming the smallest budget.

    Args:
        build: builds the prompt for a budget (None: no budget).
        max_tokens: the caller's budget.

    Returns:
        The prompt's chat messages.

    Raises:
        ApiError: 422 ``token_limit_exceeded`` (``param`` ``max_tokens``) when the messages that
            must be sent (the system prompt, the newest turn) do not fit in ``max_tokens``.
    """
    try:
        return await build(max_tokens)
    except TokenLimitExceeded as exc:
        assert max_tokens is not None
        smallest, exact = await _smallest_budget(build, max_tokens, exc)
    fits = f"the smallest budget that fits is {smallest}" if exact else f"at least {smallest}"
    message = (
        f"max_tokens={max_tokens} is too small for this session's prompt: the messages that "
        f"must be sent need more; {fits}."
    )
    raise ApiError(422, "token_limit_exceeded", message, "max_tokens")


async def _smallest_budget(build: Build, budget: int, exc: TokenLimitExceeded) -> tuple[int, bool]:
    """The smallest budget ``build`` accepts, and whether it was confirmed by a build.

    Each refusal says how many tokens were missing at the step that failed (a system prompt is
    counted before the rest, so a step may see only part of the budget); that shortfall is a
    lower bound, so raising the budget by it never steps over the smallest one.
    """
    for _ in range(MAX_BUDGET_PROBES):
        budget += max(1, exc.actual - exc.limit)
        try:
            await build(budget)
        except TokenLimitExceeded as again:
            exc = again
            continue
        return budget, True
    return budget, False
