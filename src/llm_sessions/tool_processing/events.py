"""The events the processor records: the model's reply, and one TOOL_CALL event per call.

A TOOL_CALL event's message has the shape the simple API uses (``tool``, ``arguments``,
``result``, ``error``, ``success``) plus ``tool_call_id``, ``error_type``, ``start_time``,
``end_time``, ``duration`` (seconds), ``attempts`` and ``cached``; ``raw_arguments`` keeps the
text the model sent when it could not be decoded, and ``failures`` lists every failed attempt
(``attempt``, ``exception_type``, ``message``, ``traceback``). Its token usage is what the
result will cost when sent back to the model: the prompt tokens of ``ToolResult.content()``.
"""

from __future__ import annotations

from typing import Any

from ..models._event_source import EventSource
from ..models._event_type import EventType
from ..models._session_event import SessionEvent
from ..replies import AssistantReply
from .results import ToolResult

__all__ = ["reply_event", "tool_event", "tool_event_message"]


async def reply_event(
    reply: AssistantReply,
    *,
    attempt: int,
    model: str,
    run_id: str | None,
    usage: Any = None,
) -> SessionEvent[Any]:
    """The LLM MESSAGE event of a reply: its completion tokens, or the provider's ``usage``."""
    return await SessionEvent.create_with_tokens(
        message=reply.message,
        prompt=None,
        completion=reply.completion_text(),
        model=model,
        source=EventSource.LLM,
        type=EventType.MESSAGE,
        task_id=run_id,
        metadata={"attempt": attempt, "model": model},
        usage=usage,
    )


def tool_event_message(result: ToolResult, raw_arguments: str | None = None) -> dict[str, Any]:
    """The message of a TOOL_CALL event (see the module docstring)."""
    message: dict[str, Any] = {
        "tool": result.tool,
        "arguments": result.arguments,
        "result": result.result,
        "error": result.error,
        "success": result.succeeded,
        "tool_call_id": result.tool_call_id,
        "error_type": None if result.error_type is None else result.error_type.value,
        "start_time": result.start_time.isoformat(),
        "end_time": result.end_time.isoformat(),
        "duration": result.duration,
        "attempts": result.attempts,
        "cached": result.cached,
    }
    if raw_arguments is not None:
        message["raw_arguments"] = raw_arguments
    if result.failures:
        message["failures"] = [failure.model_dump() for failure in result.failures]
    return message


async def tool_event(
    result: ToolResult,
    *,
    parent_event_id: str,
    run_id: str,
    model: str,
    llm_attempt: int,
    raw_arguments: str | None = None,
) -> SessionEvent[Any]:
    """The TOOL_CALL event of one result, a child of the reply that asked for it."""
    return await SessionEvent.create_with_tokens(
        message=tool_event_message(result, raw_arguments),
        prompt=result.content(),
        model=model,
        source=EventSource.SYSTEM,
        type=EventType.TOOL_CALL,
        task_id=run_id,
        metadata={"llm_attempt": llm_attempt},
        parent_event_id=parent_event_id,
    )
