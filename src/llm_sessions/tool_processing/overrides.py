"""A ``process_text`` override on a tool processor, as the originals' examples set one.

``processor.process_text = fn`` (or a subclass method) replaces running the reply's tool calls:
``fn(text)`` gets the assistant reply as JSON text and returns (or returns an awaitable of) the
``ToolResult`` list, which the processor records like results of its own.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from ..exceptions import InvalidInputError
from ..replies import AssistantReply
from .results import ToolResult

__all__ = ["process_text_override", "results_from_process_text"]


def process_text_override(processor: object) -> Any:
    """The processor's ``process_text`` callable, or None when it has none."""
    override = getattr(processor, "process_text", None)
    if override is not None and not callable(override):
        raise InvalidInputError("process_text", override, "must be callable")
    return override


async def results_from_process_text(process_text: Any, reply: AssistantReply) -> list[ToolResult]:
    """Call ``process_text`` with the reply as JSON text; check it gave ``ToolResult``s."""
    answer = process_text(json.dumps(reply.message, ensure_ascii=False))
    if inspect.isawaitable(answer):
        answer = await answer
    if not isinstance(answer, list | tuple) or not all(
        isinstance(result, ToolResult) for result in answer
    ):
        raise InvalidInputError("process_text result", answer, "must be a list of ToolResult")
    return list(answer)
