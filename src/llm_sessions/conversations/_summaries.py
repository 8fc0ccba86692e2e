"""Summaries of conversation segments: what to ask the summarising model, and a fallback.

A segment's summary is *rolling*: it covers the previous summary plus the segment's own
messages, so the newest summary always stands for the whole conversation before it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum
from typing import Any

from ..exceptions import InvalidInputError
from ..models._event_source import EventSource
from ..models._event_type import EventType
from ..models._session_event import SessionEvent
from ..replies import response_text
from ..tokens import count_text

__all__ = [
    "LLMCallback",
    "SummarizationStrategy",
    "extractive_summary",
    "summarize_segment",
    "summary_request",
]

LLMCallback = Callable[[list[dict[str, str]], str], Awaitable[Any]]
"""``await llm_callback(messages, model)``: the reply as text (or any shape ``response_text``
reads)."""


class SummarizationStrategy(StrEnum):
    """How a segment is summarised; each is a distinct instruction to the model."""

    BASIC = "basic"
    KEY_POINTS = "key_points"
    TOPIC_BASED = "topic_based"
    QUERY_FOCUSED = "query_focused"


_INSTRUCTIONS: dict[SummarizationStrategy, str] = {
    SummarizationStrategy.BASIC: (
        "Summarise the conversation below in one short paragraph, so that an assistant reading "
        "only your summary can continue it. Keep names, numbers and decisions."
    ),
    SummarizationStrategy.KEY_POINTS: (
        "List the key points of the conversation below as short bullet points: facts "
        "established, decisions made, open questions. Omit small talk."
    ),
    SummarizationStrategy.TOPIC_BASED: (
        "Summarise the conversation below grouped by topic: one line per topic, starting with "
        "the topic's name, then what was said and concluded about it."
    ),
    SummarizationStrategy.QUERY_FOCUSED: (
        "Summarise the conversation below from the user's side: what the user asked for, "
        "what they still want, and the answers they were given."
    ),
}

_MAX_EXTRACT_TOKENS = 400
logger = logging.getLogger("llm_sessions.summaries")


def _text_of(event: SessionEvent[Any]) -> str:
    message = event.message
    if isinstance(message, str):
        return message
    if isinstance(message, dict) and isinstance(message.get("content"), str):
        return str(message["content"])
    return json.dumps(message, ensure_ascii=False)


def _role(event: SessionEvent[Any]) -> str:
    return {EventSource.USER: "User", EventSource.LLM: "Assistant"}.get(event.source, "System")


def summary_request(
    previous_summary: str | None,
    events: Sequence[SessionEvent[Any]],
    strategy: SummarizationStrategy,
) -> list[dict[str, str]]:
    """The chat messages that ask a model to summarise a segment."""
    lines = [f"{_role(e)}: {_text_of(e)}" for e in events if e.type is EventType.MESSAGE]
    body = "Conversation:\n" + "\n".join(lines)
    if previous_summary:
        body = f"Summary of the conversation before this part:\n{previous_summary}\n\n{body}"
    return [
        {"role": "system", "content": _INSTRUCTIONS[strategy]},
        {"role": "user", "content": body},
    ]


async def summarize_segment(
    previous_summary: str | None,
    events: Sequence[SessionEvent[Any]],
    strategy: SummarizationStrategy,
    llm_callback: LLMCallback | None,
    model: str,
    *,
    fallback: bool = False,
) -> str:
    """A rolling summary of a segment, from ``llm_callback`` or, without one, extracted.

    An error in ``llm_callback`` propagates unchanged; an empty reply is an error too. With
    ``fallback=True`` such an error is logged (WARNING, with the error) and the extractive
    summary is used instead.
    """
    if llm_callback is None:
        return extractive_summary(previous_summary, events, model)
    try:
        reply = await llm_callback(summary_request(previous_summary, events, strategy), model)
        text = response_text(reply).strip()
        if not text:
            raise InvalidInputError("llm_callback reply", reply, "an empty summary cannot stand in")
    except Exception as exc:
        if not fallback:
            raise
        logger.warning("The summarizer failed (%r); using the extractive summary instead", exc)
        return extractive_summary(previous_summary, events, model)
    return text


def extractive_summary(
    previous_summary: str | None, events: Sequence[SessionEvent[Any]], model: str
) -> str:
    """A summary made without a model: the user's requests, newest kept, within a token cap."""
    requests = [
        _text_of(e).strip()
        for e in events
        if e.type is EventType.MESSAGE and e.source is EventSource.USER
    ]
    items = [line[2:] for line in (previous_summary or "").splitlines() if line.startswith("- ")]
    items.extend(_first_sentence(text) for text in requests if text)
    kept: list[str] = []
    budget = _MAX_EXTRACT_TOKENS
    for item in reversed(items):
        cost = count_text(item, model).tokens + 2
        if cost > budget:
            break
        kept.append(item)
        budget -= cost
    kept.reverse()
    header = "Earlier, the user asked about (extracted, no model was asked):"
    return "\n".join([header, *(f"- {item}" for item in kept)])


def _first_sentence(text: str, limit: int = 160) -> str:
    sentence = text.split("\n", 1)[0]
    for mark in (". ", "? ", "! "):
        head, found, _ = sentence.partition(mark)
        if found:
            sentence = head + mark.strip()
            break
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"
