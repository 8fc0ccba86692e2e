"""Counting a prompt's tokens off the event loop, for ``GET /v1/sessions/{id}/prompt``.

Building a prompt under a budget counts the tokens of the messages it walks; for a session of
megabyte messages that is seconds of CPU, and done on the event loop it would stall every
tenant. The counts are cached by message content (``prompting.budget.message_cache``), so the
route first walks the same prompt in the counting pool, which fills the cache, and then builds
it on the loop as before, where every count is found.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from typing import Any

from ..exceptions import SessionManagerError
from ..models import Session, SessionEvent
from ..prompting import PromptStrategy
from ..prompting._builder import prompt_from_events
from ..tokens.pool import in_counting_pool

__all__ = ["OFFLOAD_THRESHOLD_CHARS", "count_prompt_off_loop"]

OFFLOAD_THRESHOLD_CHARS = 100_000
"""Sessions with less text than this are counted on the loop (a thread hop would cost more)."""


async def count_prompt_off_loop(
    session: Session[Any], strategy: PromptStrategy | None, max_tokens: int | None, model: str
) -> None:
    """Count, in the counting pool, the messages a prompt of ``session`` under ``max_tokens``
    walks, so that building it on the loop next finds their counts cached.

    Args:
        session: The session the prompt is built from.
        strategy: The prompt's strategy (None: the conversation ``get_messages_for_llm`` sends).
        max_tokens: The budget; without one nothing is counted, so nothing is done.
        model: The model whose tokenizer counts.
    """
    events = list(session.events)
    if max_tokens is None or _text_chars(events) < OFFLOAD_THRESHOLD_CHARS:
        return
    chosen = strategy or PromptStrategy.CONVERSATION
    await in_counting_pool(_walk_prompt, events, chosen, max_tokens, model)


def _walk_prompt(
    events: Sequence[SessionEvent[Any]], strategy: PromptStrategy, max_tokens: int, model: str
) -> None:
    # Only the counts are wanted: an error here is raised again, and answered, by the build.
    with suppress(SessionManagerError):
        prompt_from_events(events, strategy, max_tokens, model)


def _text_chars(events: Sequence[SessionEvent[Any]]) -> int:
    total = 0
    for event in events:
        message = event.message
        if isinstance(message, dict):
            message = message.get("content")
        if isinstance(message, str):
            total += len(message)
    return total
