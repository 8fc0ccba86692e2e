"""One-call helpers on top of SessionManager."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ..replies import response_text, response_usage
from .manager import SessionManager

__all__ = [
    "quick_conversation",
    "track_conversation",
    "track_infinite_conversation",
    "track_llm_call",
]


async def track_conversation(
    user_message: str,
    ai_response: str,
    model: str = "unknown",
    provider: str = "unknown",
    infinite_context: bool = False,
    token_threshold: int = 4000,
) -> str:
    """Record one exchange in a new session; returns the session id."""
    manager = SessionManager(infinite_context=infinite_context, token_threshold=token_threshold)
    await manager.user_says(user_message)
    return await manager.ai_responds(ai_response, model=model, provider=provider)


async def track_llm_call(
    user_input: str,
    llm_function: Callable[[str], Any],
    model: str = "unknown",
    provider: str = "unknown",
    session_manager: SessionManager | None = None,
    infinite_context: bool = False,
    token_threshold: int = 4000,
) -> tuple[str, str]:
    """Call ``llm_function(user_input)`` (sync or async) and record both sides.

    The function may return a string, an object with ``.content``, or an OpenAI-style reply
    with ``choices`` (whose ``usage``, if present, is recorded as reported). Returns
    ``(reply_text, session_id)``.
    """
    manager = session_manager or SessionManager(
        infinite_context=infinite_context, token_threshold=token_threshold
    )
    await manager.user_says(user_input)
    reply = llm_function(user_input)
    if inspect.isawaitable(reply):
        reply = await reply
    text = response_text(reply)
    session_id = await manager.ai_responds(
        text, model=model, provider=provider, usage=response_usage(reply)
    )
    return text, session_id


async def quick_conversation(
    user_message: str, ai_response: str, infinite_context: bool = False
) -> dict[str, Any]:
    """Record one exchange and return its stats."""
    session_id = await track_conversation(
        user_message, ai_response, infinite_context=infinite_context
    )
    return await SessionManager(session_id, infinite_context=infinite_context).get_stats()


async def track_infinite_conversation(
    user_message: str,
    ai_response: str,
    model: str = "unknown",
    provider: str = "unknown",
    token_threshold: int = 4000,
) -> str:
    """``track_conversation`` with infinite context on."""
    return await track_conversation(
        user_message,
        ai_response,
        model=model,
        provider=provider,
        infinite_context=True,
        token_threshold=token_threshold,
    )
