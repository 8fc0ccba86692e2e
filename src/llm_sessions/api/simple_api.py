"""The unified SessionManager: record a conversation in a few calls, optionally without end.

sm = SessionManager()                        # or SessionManager(infinite_context=True)
await sm.user_says("Hello!")
await sm.ai_responds("Hi there!", model="gpt-4o-mini", usage=response.usage)
messages = await sm.get_messages_for_llm()
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from uuid import uuid4

from .. import telemetry
from ..exceptions import (
    InvalidInputError,
    SessionAlreadyExists,
    SessionNotFound,
)
from ..infinite_conversation import InfiniteConversationManager
from ..models.event_source import EventSource
from ..models.event_type import EventType
from ..models.session import Session
from ..models.session_event import SessionEvent
from ..models.session_metadata import SessionMetadata
from ..session_prompt_builder import (
    PromptStrategy,
    check_prompt_arguments,
    load_tokenizer,
    prompt_from_events,
)
from ..storage.base import SessionStore, SessionStoreInterface, refreshed
from ..storage.provider import SessionStoreProvider
from ..storage.url import open_store
from ..summaries import LLMCallback, SummarizationStrategy
from ..tool_processing import SessionAwareToolProcessor, ToolResult
from ..validation import ensure_json_value, validate_id
from .forks import fork_session
from .replies import as_text, recorded_reply
from .system_prompt import (
    SystemPromptIndex,
    check_system_prompt,
    is_system_prompt,
    system_prompt_event,
    with_system_prompt,
)
from .turns import clear_segments, conversation_stats, last_reply_id, pop_last_turn

__all__ = [
    "SessionManager",
    "quick_conversation",
    "track_conversation",
    "track_infinite_conversation",
    "track_llm_call",
]

logger = logging.getLogger(__name__)

_ROLES = {EventSource.USER: "user", EventSource.LLM: "assistant", EventSource.SYSTEM: "system"}


def _span_attributes(manager: SessionManager) -> dict[str, str]:
    return {"gen_ai.conversation.id": manager.session_id}


class SessionManager:
    """Track one conversation: user messages, model replies and tool calls, with their cost.

    With ``infinite_context=True`` the conversation is split into linked segments when the
    current one reaches ``token_threshold`` tokens or ``max_turns_per_segment`` turns; each new
    segment begins with a summary made by ``summarizer`` (an ``llm_callback(messages, model)``)
    or, without one, an extractive summary. A failing summarizer's error reaches the caller
    (the user's message is not recorded); with ``summary_fallback=True`` it is logged and the
    extractive summary is used instead. A manager given any segment's id continues the
    conversation at its newest segment.

    ``model`` counts and prices user messages; replies are counted with the model passed to
    ``ai_responds``, unless the provider's ``usage`` is given, which wins.

    A ``session_id`` that does not exist yet is created on first use and resumed afterwards;
    with ``create=False`` (or ``await SessionManager.open(id)``) it raises ``SessionNotFound``
    instead. ``store`` is a store or a store URL (``"sqlite:///chat.db"``); a store opened from
    a URL is closed by ``close()`` or at the end of ``async with``. ``system_prompt`` is kept
    as a system event and sent first by ``get_messages_for_llm``.

    ``user_id`` and ``properties`` (JSON values) are given to the session this manager
    creates; its segments and forks keep them. A session that exists already keeps its own.
    """

    def __init__(
        self,
        session_id: str | None = None,
        infinite_context: bool = False,
        token_threshold: int = 4000,
        max_turns_per_segment: int = 20,
        *,
        store: SessionStoreInterface | str | None = None,
        create: bool = True,
        system_prompt: str | None = None,
        model: str = "gpt-4o-mini",
        summarizer: LLMCallback | None = None,
        summarization_strategy: SummarizationStrategy = SummarizationStrategy.BASIC,
        summary_fallback: bool = False,
        tool_options: Mapping[str, Any] | None = None,
        user_id: str | None = None,
        properties: Mapping[str, Any] | None = None,
    ) -> None:
        self._owner = _owner(user_id, properties)
        self._is_new = session_id is None
        self._session_id = validate_id(session_id) if session_id is not None else str(uuid4())
        self._create = bool(create)
        self._system_prompt = check_system_prompt(system_prompt)
        self._session: Session[Any] | None = None
        self._prompts = SystemPromptIndex()
        # A URL opens no connection until first use, so a bad argument below leaks nothing.
        self._store = _as_store(store)
        self._owns_store = isinstance(store, str)
        self._model = model
        self._summarizer = summarizer
        self._infinite_context = bool(infinite_context)
        self._segments = InfiniteConversationManager(
            token_threshold=token_threshold,
            max_turns_per_segment=max_turns_per_segment,
            summarization_strategy=summarization_strategy,
            summary_model=model,
            store=self._store,
            summary_fallback=summary_fallback,
        )
        self._last_reply_id: str | None = None
        self._tool_options = dict(tool_options or {})
        self._tools: SessionAwareToolProcessor | None = None

    @classmethod
    async def open(cls, session_id: str, **options: Any) -> SessionManager:
        """A manager for a session that must exist already: raises ``SessionNotFound``
        (closing a store it opened from a URL) instead of creating it."""
        manager = cls(session_id, create=False, **options)
        try:
            await manager._ensure_session()
        except BaseException:
            await manager.close()
            raise
        return manager

    async def close(self) -> None:
        """Close the store if this manager opened it from a URL (a store given is left open)."""
        if self._owns_store and isinstance(self._store, SessionStore):
            await self._store.close()

    async def __aenter__(self) -> SessionManager:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    @property
    def session_id(self) -> str:
        """The id of the current session (in infinite mode, the current segment)."""
        return self._session.id if self._session is not None else self._session_id

    @property
    def is_infinite(self) -> bool:
        """Whether infinite context (segmentation) is on."""
        return self._infinite_context

    @property
    def store(self) -> SessionStoreInterface:
        """The store this conversation is kept in."""
        return self._store if self._store is not None else SessionStoreProvider.get_store()

    async def _ensure_session(self) -> Session[Any]:
        """The session, loaded or (unless ``create=False``) created on first use."""
        if self._session is not None:
            return self._session
        session = None if self._is_new else await self._load()
        if session is None:
            session = await self._create_session()
        self._session = session
        self._last_reply_id = last_reply_id(session)
        await self._record_system_prompt(session)
        return session

    async def _load(self) -> Session[Any] | None:
        if not self._infinite_context:
            return await self.store.get(self._session_id)
        try:
            return await self._segments.current_segment(self._session_id)
        except SessionNotFound:
            return None

    async def _create_session(self) -> Session[Any]:
        if not self._is_new and not self._create:
            raise SessionNotFound(self._session_id)
        try:
            return await Session.create(
                id=self._session_id,
                store=self.store,
                user_id=self._owner.user_id,
                properties=self._owner.properties,
            )
        except SessionAlreadyExists:
            # Another writer created it between our read and our create: resume theirs.
            session = await self._load()
            if session is None:
                raise
            return session

    async def _record_system_prompt(self, session: Session[Any]) -> None:
        """Record this manager's system prompt in ``session`` unless it is already current."""
        current = self._prompts.current(session.events)
        if self._system_prompt is None:
            self._system_prompt = current
        elif current != self._system_prompt:
            await session.add_event_and_save(
                await system_prompt_event(self._system_prompt, self._model)
            )

    async def set_system_prompt(self, system_prompt: str) -> None:
        """Change the system prompt; the new one is recorded and sent first from now on."""
        if system_prompt is None:
            raise InvalidInputError("system_prompt", system_prompt, "must be a string")
        self._system_prompt = check_system_prompt(system_prompt)
        await self._record_system_prompt(await self._ensure_session())

    async def get_system_prompt(self) -> str | None:
        """The current system prompt, or None."""
        return self._prompts.current((await self._refreshed_session()).events)

    async def get_session(self) -> Session[Any]:
        """The current session (in infinite mode, the newest segment) as the store holds it now,
        created first if it does not exist yet."""
        return await self._refreshed_session()

    async def _segment_for_user_message(self) -> Session[Any]:
        session = await self._ensure_session()
        if self._infinite_context:
            segment = await self._segments.start_segment_if_needed(session, self._summarizer)
            if segment is not session:
                self._session = segment
                await self._record_system_prompt(segment)
            session = segment
        return session

    # -- recording --------------------------------------------------------------------------

    @telemetry.traced("llm_sessions.user_says", _span_attributes)
    async def user_says(self, message: Any, **metadata: Any) -> str:
        """Record a user message; returns the current session id (it may change in infinite
        mode, when this message starts a new segment)."""
        ensure_json_value(metadata, "metadata")
        ensure_json_value(message, "message")
        session = await self._segment_for_user_message()
        event = await SessionEvent.create_with_tokens(
            message=message,
            prompt=as_text(message),
            model=self._model,
            source=EventSource.USER,
            metadata=metadata,
        )
        await session.add_event_and_save(event)
        return session.id

    @telemetry.traced("llm_sessions.ai_responds", _span_attributes)
    async def ai_responds(
        self,
        response: Any,
        model: str = "unknown",
        provider: str = "unknown",
        *,
        usage: Any = None,
        **metadata: Any,
    ) -> str:
        """Record a model reply: a string, or an OpenAI assistant message (dict or
        ``ChatCompletionMessage``) or ``ChatCompletion``, ``tool_calls`` included; record each
        call's result with ``tool_used(..., call_id=)``. ``usage`` (the provider's reported
        usage, e.g. ``response.usage``; a ``ChatCompletion``'s own by default) is used instead
        of counting when given."""
        # Checked before it is counted; the event checks the metadata. Built before the session
        # is created or loaded, so bad input stores nothing.
        reply = recorded_reply(response)
        event = await SessionEvent.create_with_tokens(
            message=reply.message,
            prompt=None,
            completion=reply.completion,
            model=model,
            source=EventSource.LLM,
            metadata={"model": model, "provider": provider, **metadata},
            usage=usage if usage is not None else reply.usage,
        )
        session = await self._ensure_session()
        await session.add_event_and_save(event)
        self._last_reply_id = event.id
        return session.id

    @telemetry.traced("llm_sessions.tool_used", _span_attributes)
    async def tool_used(
        self,
        tool_name: str,
        arguments: dict[str, Any],
        result: Any,
        error: str | None = None,
        *,
        call_id: str | None = None,
        **metadata: Any,
    ) -> str:
        """Record a tool call, as a child event of the latest model reply; ``call_id`` is the
        id of the reply's tool call it answers (``tool_calls[i].id``).

        Its tokens are the result's tokens as they will be sent back to the model.
        """
        if not isinstance(tool_name, str) or not tool_name:
            raise InvalidInputError("tool_name", tool_name, "must be a non-empty string")
        if call_id is not None and (not isinstance(call_id, str) or not call_id):
            raise InvalidInputError("call_id", call_id, "must be a non-empty string or None")
        message = {
            "tool": tool_name,
            "arguments": arguments,
            "result": result,
            "error": error,
            "success": error is None,
        }
        if call_id is not None:
            message["tool_call_id"] = call_id
        ensure_json_value(message, "tool call")
        ensure_json_value(metadata, "metadata")
        session = await self._ensure_session()
        event = await SessionEvent.create_with_tokens(
            message=message,
            prompt=as_text(result if error is None else error),
            model=self._model,
            source=EventSource.SYSTEM,
            type=EventType.TOOL_CALL,
            metadata=metadata,
            parent_event_id=self._last_reply_id,
        )
        await session.add_event_and_save(event)
        return session.id

    # -- tools ------------------------------------------------------------------------------

    @property
    def tools(self) -> SessionAwareToolProcessor:
        """The tool processor of this conversation, on this manager's store (made on first
        use from ``tool_options``: ``registry``, ``max_retries``, ``retry_on``, ``timeout``...)."""
        if self._tools is None:
            options = {"model": self._model, **self._tool_options}
            self._tools = SessionAwareToolProcessor(self.session_id, store=self.store, **options)
        self._tools.session_id = self.session_id  # the newest segment in infinite mode
        return self._tools

    async def process_llm_message(
        self, llm_msg: Any, llm_callback: Any = None, *, usage: Any = None
    ) -> list[ToolResult]:
        """Record an assistant reply in this conversation and run its tool calls, recording
        each result as a child of the reply (see ``SessionAwareToolProcessor``)."""
        await self._ensure_session()
        results = await self.tools.process_llm_message(llm_msg, llm_callback, usage=usage)
        session = await self._refreshed_session()
        self._last_reply_id = last_reply_id(session)
        return results

    # -- undo -------------------------------------------------------------------------------

    async def pop_last_turn(self) -> list[SessionEvent[Any]]:
        """Remove the newest user message and everything after it (replies, tool calls); the
        system prompt stays. Returns the removed events. Raises ``InvalidSessionOperation``,
        changing nothing, when the current session has no user message."""
        session = await self._refreshed_session()
        removed = await pop_last_turn(session)
        self._last_reply_id = last_reply_id(session)
        return removed

    async def clear(self) -> None:
        """Remove every event of the conversation (every segment in infinite mode) except the
        system prompt; the session itself stays, and later messages go on in it."""
        await clear_segments(await self._all_segments(True))
        self._last_reply_id = None

    # -- fork and delete --------------------------------------------------------------------

    async def fork(
        self, at_event_id: str | None = None, *, session_id: str | None = None
    ) -> SessionManager:
        """A new conversation with copies of this one's events up to and including
        ``at_event_id`` (all of them if None; any segment's event in infinite mode), and a
        manager for it with this one's settings and store. The fork's ``parent_id`` is the
        session forked from and its ``forked_from`` property names the session and event; the
        original is not changed. An unknown event id raises ``InvalidInputError``."""
        segments = await self._all_segments(True)
        fork = await fork_session(self.store, segments, at_event_id, session_id)
        return SessionManager(
            fork.id,
            self._infinite_context,
            self._segments.token_threshold,
            self._segments.max_turns_per_segment,
            store=self.store,
            model=self._model,
            summarizer=self._summarizer,
            summarization_strategy=self._segments.summarization_strategy,
            tool_options=self._tool_options,
            user_id=fork.metadata.user_id,
        )

    async def delete(self) -> int:
        """Delete the conversation from the store, every segment of it in infinite mode;
        returns how many sessions were deleted. Using the manager afterwards starts the
        conversation afresh under the same id."""
        segments = await self._all_segments(True)
        deleted = 0
        for segment in segments:
            deleted += bool(await self.store.delete(segment.id))
        self._session = None
        self._last_reply_id = None
        self._segments = InfiniteConversationManager(
            token_threshold=self._segments.token_threshold,
            max_turns_per_segment=self._segments.max_turns_per_segment,
            summarization_strategy=self._segments.summarization_strategy,
            summary_model=self._segments.summary_model,
            store=self._store,
        )
        return deleted

    # -- reading ----------------------------------------------------------------------------

    async def _refreshed_session(self) -> Session[Any]:
        """The current session as the store holds it now, including what other writers (a tool
        processor, another process) appended; the in-memory store returns the same object."""
        session = await self._ensure_session()
        fresh = await refreshed(self.store, session)
        if fresh is not None and fresh is not session:
            self._session = session = fresh
        return session

    async def _all_segments(self, include_all_segments: bool | None) -> list[Session[Any]]:
        session = await self._refreshed_session()
        if include_all_segments is None:
            include_all_segments = self._infinite_context
        if include_all_segments and self._infinite_context:
            return await self._segments.get_segments(session.id)
        return [session]

    async def get_conversation(
        self, include_all_segments: bool | None = None, *, all_segments: bool | None = None
    ) -> list[dict[str, Any]]:
        """The user and assistant messages as ``{"role", "content", "timestamp"}`` dicts; in
        infinite mode every segment's by default (``all_segments=False``: the newest only)."""
        include = all_segments if all_segments is not None else include_all_segments
        return [
            {
                "role": _ROLES[event.source],
                "content": event.message,
                "timestamp": event.timestamp.isoformat(),
            }
            for segment in await self._all_segments(include)
            for event in segment.events
            if event.type is EventType.MESSAGE and not is_system_prompt(event)
        ]

    async def get_session_chain(self) -> list[str]:
        """The ids of every segment, root first (just this session's id when not infinite)."""
        return [segment.id for segment in await self._all_segments(True)]

    async def get_stats(
        self, include_all_segments: bool | None = None, *, all_segments: bool | None = None
    ) -> dict[str, Any]:
        """Counts, tokens and cost of the conversation (across every segment by default in
        infinite mode); ``events_by_type`` counts events by type, custom types included, and
        ``unpriced_models`` names the models whose tokens ``estimated_cost`` leaves out."""
        include = all_segments if all_segments is not None else include_all_segments
        segments = await self._all_segments(include)
        return {
            "session_id": self.session_id,
            **conversation_stats(segments),
            "infinite_context": self._infinite_context,
        }

    @telemetry.traced("llm_sessions.build_prompt", _span_attributes)
    async def get_messages_for_llm(
        self, max_tokens: int | None = None, model: str | None = None
    ) -> list[dict[str, Any]]:
        """The chat messages to send next: the summary of earlier segments (as a system
        message), then this segment's messages with tool calls and results, within
        ``max_tokens`` if given."""
        model = model or self._model
        check_prompt_arguments(max_tokens, model)
        if max_tokens is not None:
            await load_tokenizer(model)
        session = await self._refreshed_session()
        # From here on nothing awaits: the events cannot change while the prompt is made.
        history, system, budget = with_system_prompt(
            self._prompts, session.events, max_tokens, model
        )
        messages = prompt_from_events(history, PromptStrategy.CONVERSATION, budget, model)
        return messages if system is None else [system, *messages]


def _owner(user_id: str | None, properties: Mapping[str, Any] | None) -> SessionMetadata:
    """The ``user_id`` and ``properties`` a manager gives new sessions, checked up front."""
    if properties is not None and not isinstance(properties, Mapping):
        raise InvalidInputError("properties", properties, "must be a dict of JSON values or None")
    owner = SessionMetadata()
    owner.user_id = user_id  # assignments raise InvalidInputError naming the field
    owner.properties = dict(properties or {})
    return owner


def _as_store(store: SessionStoreInterface | str | None) -> SessionStoreInterface | None:
    if isinstance(store, str):
        return open_store(store)
    if store is not None and not isinstance(store, SessionStoreInterface):
        raise InvalidInputError("store", store, "must be a session store, a store URL or None")
    return store


# The originals defined the helpers in this module; they live in ``helpers``, which needs
# SessionManager from here, so they are imported last (``api/__init__`` imports this module first).
from .helpers import (  # noqa: E402
    quick_conversation,
    track_conversation,
    track_infinite_conversation,
    track_llm_call,
)
