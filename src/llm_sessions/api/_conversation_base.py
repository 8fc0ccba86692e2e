"""What a conversation manager holds: its settings, its store and its current session.

``SessionManager`` (``api.manager``) builds on this base the calls that record and read a
conversation; the base opens, creates, resumes and refreshes the session those calls work on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self
from uuid import uuid4

from ..conversations._infinite import InfiniteConversationManager
from ..conversations._summaries import LLMCallback, SummarizationStrategy
from ..exceptions import InvalidInputError, SessionAlreadyExists, SessionNotFound
from ..models._session import Session
from ..models._session_metadata import SessionMetadata
from ..prompting._appended_index import AppendedIndex
from ..prompting._compaction import Compaction, is_compaction_event
from ..prompting._incomplete import is_incomplete
from ..prompting._recall import Recall
from ..storage import SessionStore, SessionStoreInterface, refreshed
from ..storage._provider import SessionStoreProvider
from ..tool_processing import SessionAwareToolProcessor
from ..validation import validate_id
from ._inputs import as_store
from ._system_prompt import SystemPromptIndex, check_system_prompt, system_prompt_event
from ._turns import last_reply_id

__all__ = ["ConversationBase"]


class ConversationBase:
    """The settings, store and current session of one conversation (see ``SessionManager``
    for the arguments)."""

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
        compaction: Compaction | None = None,
        user_id: str | None = None,
        properties: Mapping[str, Any] | None = None,
        recall: Recall | None = None,
    ) -> None:
        if compaction is not None and not isinstance(compaction, Compaction):
            raise InvalidInputError("compaction", compaction, "must be a Compaction or None")
        if recall is not None and not isinstance(recall, Recall):
            raise InvalidInputError("recall", recall, "must be a Recall or None")
        self._owner = _owner(user_id, properties)
        self._is_new = session_id is None
        self._session_id = validate_id(session_id) if session_id is not None else str(uuid4())
        self._create = bool(create)
        self._system_prompt = check_system_prompt(system_prompt)
        self._session: Session[Any] | None = None
        self._prompts = SystemPromptIndex()
        # Where compaction summaries and cut replies are: a prompt reads only what is new.
        self._compactions = AppendedIndex(is_compaction_event)
        self._cut_replies = AppendedIndex(is_incomplete)
        # A URL opens no connection until first use, so a bad argument below leaks nothing.
        self._store = as_store(store)
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
        self._compaction = compaction
        self._recall = recall
        # Per session id: (events counted, history tokens, model, id of the last one counted).
        self._history_tokens: dict[str, tuple[int, int, str, str]] = {}

    @classmethod
    async def open(cls, session_id: str, **options: Any) -> Self:
        """A manager for a session that must exist already.

        Args:
            session_id: The conversation's id.
            **options: The constructor's other arguments.

        Returns:
            The manager, its session loaded.

        Raises:
            SessionNotFound: No such session (a store opened from a URL is closed first).
        """
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

    async def __aenter__(self) -> Self:
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


def _owner(user_id: str | None, properties: Mapping[str, Any] | None) -> SessionMetadata:
    """The ``user_id`` and ``properties`` a manager gives new sessions, checked up front."""
    if properties is not None and not isinstance(properties, Mapping):
        raise InvalidInputError("properties", properties, "must be a dict of JSON values or None")
    owner = SessionMetadata()
    owner.user_id = user_id  # assignments raise InvalidInputError naming the field
    owner.properties = dict(properties or {})
    return owner
