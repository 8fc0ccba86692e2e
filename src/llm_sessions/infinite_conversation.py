"""Conversations longer than any context window: segments linked in storage, with summaries.

A conversation is a chain of sessions (segments). When the current segment reaches
``token_threshold`` tokens or ``max_turns_per_segment`` turns, the next user message starts a new
segment: a child session of the old one that begins with a rolling summary of everything before
it. The links live in each segment's state, so the chain and the whole history can be rebuilt
from storage alone, from any segment's id, in any process.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from .exceptions import InvalidInputError, SessionNotFound
from .models.event_source import EventSource
from .models.event_type import EventType
from .models.session import Session
from .models.session_event import SessionEvent
from .storage.base import SessionStoreInterface
from .storage.provider import SessionStoreProvider
from .summaries import LLMCallback, SummarizationStrategy, summarize_segment

__all__ = ["SEGMENT_STATE_KEY", "InfiniteConversationManager", "SummarizationStrategy"]

#: State key under which a segment records its place in the chain.
SEGMENT_STATE_KEY = "llm_sessions.segment"
_CACHE_SIZE = 256


def segment_links(session: Session[Any]) -> dict[str, Any]:
    """``{"index", "previous", "next"}`` of a segment (a session never segmented is index 0)."""
    links = session.state.get(SEGMENT_STATE_KEY)
    if isinstance(links, dict):
        return links
    return {"index": 0, "previous": None, "next": None}


def latest_summary(session: Session[Any]) -> SessionEvent[Any] | None:
    """The summary a segment begins with, if it has one."""
    for event in session.events:
        if event.type is EventType.SUMMARY:
            return event
        if event.type is EventType.MESSAGE:
            break
    return None


def conversation_turns(session: Session[Any]) -> int:
    """User/assistant exchanges in a session: the number of user messages."""
    return sum(
        1 for e in session.events if e.type is EventType.MESSAGE and e.source is EventSource.USER
    )


class InfiniteConversationManager:
    """Segments a conversation and rebuilds it, from storage, across segments.

    A manager caches the segments it writes, so it expects to be the only writer of the
    conversations it drives; it reads any segment id it has not seen from the store.
    """

    def __init__(
        self,
        token_threshold: int = 3000,
        max_turns_per_segment: int = 20,
        summarization_strategy: SummarizationStrategy = SummarizationStrategy.BASIC,
        summary_model: str = "gpt-4o-mini",
        *,
        store: SessionStoreInterface | None = None,
    ) -> None:
        if not isinstance(token_threshold, int) or token_threshold <= 0:
            raise InvalidInputError("token_threshold", token_threshold, "must be an integer > 0")
        if not isinstance(max_turns_per_segment, int) or max_turns_per_segment <= 0:
            raise InvalidInputError(
                "max_turns_per_segment", max_turns_per_segment, "must be an integer > 0"
            )
        self.token_threshold = token_threshold
        self.max_turns_per_segment = max_turns_per_segment
        self.summarization_strategy = SummarizationStrategy(summarization_strategy)
        self.summary_model = summary_model
        self._store = store
        self._tips: OrderedDict[str, Session[Any]] = OrderedDict()

    @property
    def store(self) -> SessionStoreInterface:
        """The store segments are read from and written to."""
        return self._store if self._store is not None else SessionStoreProvider.get_store()

    # -- the chain --------------------------------------------------------------------------

    async def _load(self, session_id: str) -> Session[Any]:
        session = await self.store.get(session_id)
        if session is None:
            raise SessionNotFound(session_id)
        return session

    async def current_segment(self, session_id: str) -> Session[Any]:
        """The newest segment of the conversation ``session_id`` belongs to."""
        cached = self._tips.get(session_id)
        session = cached if cached is not None else await self._load(session_id)
        while (next_id := segment_links(session)["next"]) is not None:
            session = await self._load(next_id)
        self._remember(session_id, session)
        return session

    def _remember(self, session_id: str, tip: Session[Any]) -> None:
        for key in (session_id, tip.id):
            self._tips[key] = tip
            self._tips.move_to_end(key)
        while len(self._tips) > _CACHE_SIZE:
            self._tips.popitem(last=False)

    async def _segments(self, session_id: str) -> list[Session[Any]]:
        start = await self._load(session_id)
        before: list[Session[Any]] = []
        session = start
        while (previous_id := segment_links(session)["previous"]) is not None:
            session = await self._load(previous_id)
            before.append(session)
        after: list[Session[Any]] = []
        session = start
        while (next_id := segment_links(session)["next"]) is not None:
            session = await self._load(next_id)
            after.append(session)
        return [*reversed(before), start, *after]

    async def get_session_chain(self, session_id: str) -> list[str]:
        """Ids of every segment of the conversation, root first."""
        return [segment.id for segment in await self._segments(session_id)]

    async def get_segments(self, session_id: str) -> list[Session[Any]]:
        """Every segment of the conversation as a session, root first."""
        return await self._segments(session_id)

    # -- segmentation -----------------------------------------------------------------------

    def needs_new_segment(self, segment: Session[Any]) -> bool:
        """Whether the next user message should start a new segment."""
        turns = conversation_turns(segment)
        if turns == 0:
            return False
        return segment.total_tokens >= self.token_threshold or turns >= self.max_turns_per_segment

    async def start_segment_if_needed(
        self, segment: Session[Any], llm_callback: LLMCallback | None
    ) -> Session[Any]:
        """The segment the next user message belongs in: ``segment`` or a new one after it.

        The summary is made first; if ``llm_callback`` fails, its error propagates and nothing
        has been written.
        """
        if not self.needs_new_segment(segment):
            return segment
        previous = latest_summary(segment)
        summary_text = await summarize_segment(
            previous.message if previous is not None else None,
            segment.events,
            self.summarization_strategy,
            llm_callback,
            self.summary_model,
        )
        links = segment_links(segment)
        new = type(segment)(
            parent_id=segment.id,
            state={
                SEGMENT_STATE_KEY: {
                    "index": links["index"] + 1,
                    "previous": segment.id,
                    "next": None,
                }
            },
        )
        summary = await SessionEvent.create_with_tokens(
            message=summary_text,
            prompt=summary_text,
            model=self.summary_model,
            source=EventSource.SYSTEM,
            type=EventType.SUMMARY,
            metadata={
                "summarizes": segment.id,
                "strategy": self.summarization_strategy.value
                if llm_callback is not None
                else "extractive",
            },
        )
        await new.add_event(summary)
        store = segment._store or self.store
        await store.save(new)
        # Link the old segment forward only once the new one is complete in the store.
        segment.child_ids.append(new.id)
        segment.state[SEGMENT_STATE_KEY] = {**links, "next": new.id}
        await store.save(segment)
        self._remember(segment.id, new)
        return new

    async def process_message(
        self,
        session_id: str,
        message: Any,
        source: EventSource,
        llm_callback: LLMCallback,
        model: str = "gpt-4o-mini",
    ) -> str:
        """Record a message, starting a new segment first if the current one is full.

        Returns the id of the segment the message was recorded in (the current segment).
        """
        source = EventSource(source)
        segment = await self.current_segment(session_id)
        if source is EventSource.USER:
            segment = await self.start_segment_if_needed(segment, llm_callback)
        text = message if isinstance(message, str) else None
        event = await SessionEvent.create_with_tokens(
            message=message,
            prompt=text if source is not EventSource.LLM else None,
            completion=text if source is EventSource.LLM else None,
            model=model,
            source=source,
        )
        await segment.add_event_and_save(event)
        return segment.id

    # -- reading the conversation back ------------------------------------------------------

    async def build_context_for_llm(
        self, session_id: str, max_messages: int = 10, include_summaries: bool = True
    ) -> list[dict[str, Any]]:
        """Chat messages for the next call: the rolling summary, then the recent messages."""
        if not isinstance(max_messages, int) or max_messages < 0:
            raise InvalidInputError("max_messages", max_messages, "must be an integer >= 0")
        segment = await self.current_segment(session_id)
        context: list[dict[str, Any]] = []
        summary = latest_summary(segment) if include_summaries else None
        if summary is not None:
            text = f"Summary of the conversation so far:\n{summary.message}"
            context.append({"role": "system", "content": text})
        recent = [e for e in segment.events if e.type is EventType.MESSAGE]
        if max_messages == 0:
            return context
        return context + [_chat_message(e) for e in recent[-max_messages:]]

    async def get_full_conversation_history(self, session_id: str) -> list[dict[str, Any]]:
        """Every message of every segment, in order, with the segment it is in."""
        history: list[dict[str, Any]] = []
        for segment in await self._segments(session_id):
            for event in segment.events:
                if event.type is EventType.MESSAGE:
                    history.append(
                        {
                            **_chat_message(event),
                            "timestamp": event.timestamp.isoformat(),
                            "session_id": segment.id,
                        }
                    )
        return history


_ROLES = {EventSource.USER: "user", EventSource.LLM: "assistant", EventSource.SYSTEM: "system"}


def _chat_message(event: SessionEvent[Any]) -> dict[str, Any]:
    return {"role": _ROLES[event.source], "content": event.message}
