"""Conversations longer than any context window: segments linked in storage, with summaries.

A conversation is a chain of sessions (segments). When the current segment reaches
``token_threshold`` tokens or ``max_turns_per_segment`` turns, the next user message starts a new
segment: a child session of the old one that begins with a rolling summary of everything before
it. The links live in each segment's state, so the chain and the whole history can be rebuilt
from storage alone, from any segment's id, in any process.

A segment's own opening summary does not count toward its threshold (so a long summary cannot
make every message start a segment), and a summary longer than ``max_summary_tokens`` (by
default half of ``token_threshold``) is cut to that length with a warning.

Deleting a segment with ``store.delete`` leaves the rest of the conversation readable: the
history skips the deleted segment's messages, and a manager given any remaining segment's id
still finds the newest segment (through the first segment, which records the newest one, and
each segment's list of the segments before it). Deleting the newest segment makes the one
before it the newest again.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from copy import deepcopy
from typing import Any

from ..exceptions import InvalidInputError, SessionNotFound
from ..models._event_source import EventSource
from ..models._event_type import EventType
from ..models._session import Session
from ..models._session_event import SessionEvent
from ..models._session_metadata import SessionMetadata
from ..models._store_port import SessionStorePort
from ..storage import SessionStoreInterface
from ..storage._provider import SessionStoreProvider
from ..tokens import count_text, truncate_text
from ._summaries import LLMCallback, SummarizationStrategy, summarize_segment

__all__ = ["SEGMENT_STATE_KEY", "InfiniteConversationManager", "SummarizationStrategy"]

#: State key under which a segment records its place in the chain.
SEGMENT_STATE_KEY = "llm_sessions.segment"
_CACHE_SIZE = 256
logger = logging.getLogger("llm_sessions.infinite_conversation")


def segment_links(session: Session[Any]) -> dict[str, Any]:
    """A segment's place in its chain (a session never segmented is index 0, its own root).

    ``index``; ``previous`` and ``next`` (ids or None); ``root``, the first segment's id;
    ``earlier``, the ids of every segment before this one, root first; on the root only,
    ``newest``, the id of the newest segment.
    """
    defaults: dict[str, Any] = {
        "index": 0,
        "previous": None,
        "next": None,
        "root": session.id,
        "earlier": [],
    }
    links = session.state.get(SEGMENT_STATE_KEY)
    return {**defaults, **links} if isinstance(links, dict) else defaults


def _inherited_metadata(segment: Session[Any]) -> SessionMetadata:
    """A next segment's metadata: the conversation's user, root and properties, stamped now."""
    return SessionMetadata(
        user_id=segment.metadata.user_id,
        root_id=segment.metadata.root_id or segment.id,
        properties=deepcopy(segment.metadata.properties),
    )


def own_tokens(session: Session[Any]) -> int:
    """Tokens of a segment without the summary it begins with."""
    summary = latest_summary(session)
    usage = summary.token_usage if summary is not None else None
    return session.total_tokens - (usage.total_tokens if usage is not None else 0)


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
        max_summary_tokens: int | None = None,
        summary_fallback: bool = False,
    ) -> None:
        if not _is_int(token_threshold) or token_threshold < 0:
            raise InvalidInputError("token_threshold", token_threshold, "must be an integer >= 0")
        if not _is_int(max_turns_per_segment) or max_turns_per_segment <= 0:
            raise InvalidInputError(
                "max_turns_per_segment", max_turns_per_segment, "must be an integer > 0"
            )
        if max_summary_tokens is not None and (
            not _is_int(max_summary_tokens) or max_summary_tokens <= 0
        ):
            raise InvalidInputError(
                "max_summary_tokens", max_summary_tokens, "must be an integer > 0 or None"
            )
        self.token_threshold = token_threshold
        self.max_summary_tokens = max_summary_tokens or (token_threshold // 2) or None
        self.summary_fallback = bool(summary_fallback)
        self.max_turns_per_segment = max_turns_per_segment
        self.summarization_strategy = SummarizationStrategy(summarization_strategy)
        self.summary_model = summary_model
        self._store = store
        self._tips: OrderedDict[str, Session[Any]] = OrderedDict()

    def forget(self) -> None:
        """Forget the newest segments found so far (after the conversation was deleted)."""
        self._tips.clear()

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
        start = cached if cached is not None else await self._load(session_id)
        tip = await self._newest_from(start)
        self._remember(session_id, tip)
        return tip

    async def _newest_from(self, session: Session[Any]) -> Session[Any]:
        """Follow ``next`` links to the newest segment, around a deleted segment if need be."""
        seen = {session.id}
        while (next_id := segment_links(session)["next"]) is not None and next_id not in seen:
            following = await self.store.get(next_id)
            if following is None:
                following = await self._newest_recorded_by_root(session)
            if following is None or following.id in seen:
                break
            seen.add(following.id)
            session = following
        return session

    async def _newest_recorded_by_root(self, segment: Session[Any]) -> Session[Any] | None:
        """The newest segment as the chain's root records it, if it is after ``segment``."""
        links = segment_links(segment)
        root = segment if links["root"] == segment.id else await self.store.get(links["root"])
        newest_id = segment_links(root).get("newest") if root is not None else None
        newest = await self.store.get(newest_id) if newest_id is not None else None
        if newest is None or segment_links(newest)["index"] <= links["index"]:
            return None
        return newest

    def _remember(self, session_id: str, tip: Session[Any]) -> None:
        for key in (session_id, tip.id):
            self._tips[key] = tip
            self._tips.move_to_end(key)
        while len(self._tips) > _CACHE_SIZE:
            self._tips.popitem(last=False)

    async def _segments(self, session_id: str) -> list[Session[Any]]:
        """Every segment still in the store, root first (deleted ones are skipped)."""
        tip = await self._newest_from(await self._load(session_id))
        earlier = [await self.store.get(id_) for id_ in segment_links(tip)["earlier"]]
        return [*(segment for segment in earlier if segment is not None), tip]

    async def get_session_chain(self, session_id: str) -> list[Session[Any]]:
        """Every segment of the conversation as a session, root first, as the original
        returns them (``[s.id for s in ...]`` for the ids). A session that was never
        segmented but has a parent gives its ancestors, root first, then itself."""
        segments = await self._segments(session_id)
        tip = segments[-1]
        if len(segments) == 1 and SEGMENT_STATE_KEY not in tip.state and tip.parent_id:
            return [*reversed(await tip.ancestors()), tip]
        return segments

    async def get_segments(self, session_id: str) -> list[Session[Any]]:
        """Every segment of the conversation as a session, root first."""
        return await self._segments(session_id)

    # -- segmentation -----------------------------------------------------------------------

    async def _should_create_new_segment(self, session: Session[Any]) -> bool:
        """Whether the next user message should start a new segment after ``session``.

        Every segmentation decision goes through this method, so a subclass (or a test) can
        replace it. By default: once the segment has a turn, when its own tokens (its opening
        summary left out) reach ``token_threshold`` or its turns reach
        ``max_turns_per_segment``. With ``token_threshold=0`` every user message after the
        first starts a new segment.
        """
        turns = conversation_turns(session)
        if turns == 0:
            return False
        return own_tokens(session) >= self.token_threshold or turns >= self.max_turns_per_segment

    async def start_segment_if_needed(
        self, segment: Session[Any], llm_callback: LLMCallback | None
    ) -> Session[Any]:
        """The segment the next user message belongs in: ``segment`` or a new one after it.

        The summary is made first; if ``llm_callback`` fails, its error propagates and nothing
        has been written.
        """
        if not await self._should_create_new_segment(segment):
            return segment
        previous = latest_summary(segment)
        summary_text = await summarize_segment(
            previous.message if previous is not None else None,
            segment.events,
            self.summarization_strategy,
            llm_callback,
            self.summary_model,
            fallback=self.summary_fallback,
        )
        summary_text = self._fit_summary(summary_text, segment.id)
        links = segment_links(segment)
        new = type(segment)(
            parent_id=segment.id,
            metadata=_inherited_metadata(segment),
            state={
                SEGMENT_STATE_KEY: {
                    "index": links["index"] + 1,
                    "previous": segment.id,
                    "next": None,
                    "root": links["root"],
                    "earlier": [*links["earlier"], segment.id],
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
        store = segment._stored_in() or self.store
        await store.save(new)
        # Link the old segment forward only once the new one is complete in the store.
        segment.child_ids.append(new.id)
        segment.state[SEGMENT_STATE_KEY] = {**links, "next": new.id}
        await store.save(segment)
        await self._record_newest(store, segment, new)
        self._remember(segment.id, new)
        return new

    async def _record_newest(
        self, store: SessionStorePort, segment: Session[Any], new: Session[Any]
    ) -> None:
        """Note the new segment on the chain's root, so readers can step over a deleted one."""
        root_id = segment_links(segment)["root"]
        root = segment if root_id == segment.id else await store.get(root_id)
        if root is None:
            return
        root.state[SEGMENT_STATE_KEY] = {**segment_links(root), "newest": new.id}
        await store.save(root)

    def _fit_summary(self, text: str, segment_id: str) -> str:
        limit = self.max_summary_tokens
        if limit is None:
            return text
        tokens = count_text(text, self.summary_model).tokens
        if tokens <= limit:
            return text
        logger.warning(
            "The summary of segment %s has %d tokens, over max_summary_tokens=%d; cut to fit",
            segment_id,
            tokens,
            limit,
        )
        return truncate_text(text, limit, self.summary_model)

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
        summaries = await self._context_summaries(segment) if include_summaries else []
        if summaries:
            text = "Summary of the conversation so far:\n" + "\n\n".join(summaries)
            context.append({"role": "system", "content": text})
        recent = [e for e in segment.events if e.type is EventType.MESSAGE]
        if max_messages == 0:
            return context
        return context + [_chat_message(e) for e in recent[-max_messages:]]

    async def _context_summaries(self, segment: Session[Any]) -> list[str]:
        """The segment's own rolling summary; for a session with none, the newest summary
        of each of its ancestors, root first (sessions linked by ``parent_id`` alone)."""
        own = latest_summary(segment)
        if own is not None:
            return [str(own.message)]
        found: list[str] = []
        for ancestor in reversed(await segment.ancestors()):
            summaries = [e for e in ancestor.events if e.type is EventType.SUMMARY]
            if summaries:
                found.append(str(summaries[-1].message))
        return found

    async def get_full_conversation_history(
        self, session_id: str
    ) -> list[tuple[str, EventSource, Any]]:
        """Every message of every segment, in order, as ``(role, source, content)`` tuples
        (role ``user``, ``assistant`` or ``system``)."""
        return [
            (_ROLES[event.source], event.source, event.message)
            for segment in await self.get_session_chain(session_id)
            for event in segment.events
            if event.type is EventType.MESSAGE
        ]


_ROLES = {EventSource.USER: "user", EventSource.LLM: "assistant", EventSource.SYSTEM: "system"}


def _chat_message(event: SessionEvent[Any]) -> dict[str, Any]:
    return {"role": _ROLES[event.source], "content": event.message}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
