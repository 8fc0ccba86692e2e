"""The unified SessionManager: record a conversation in a few calls, optionally without end.

sm = SessionManager()                        # or SessionManager(infinite_context=True)
await sm.user_says("Hello!")
await sm.ai_responds("Hi there!", model="gpt-4o-mini", usage=response.usage)
messages = await sm.get_messages_for_llm()
"""

from __future__ import annotations

import logging
from typing import Any

from .. import telemetry
from ..exceptions import (
    InvalidInputError,
)
from ..models._event_source import EventSource
from ..models._event_type import EventType
from ..models._session import Session
from ..models._session_event import SessionEvent
from ..replies import as_text, recorded_reply
from ..tool_processing import SessionAwareToolProcessor, ToolResult
from ..validation import ensure_json_value
from ._attachments import attachment_event, has_attachments
from ._forks import fork_session
from ._inputs import tool_call_message
from ._prompt_reading import PromptReading
from ._streaming import StreamingConversation
from ._system_prompt import (
    check_system_prompt,
)
from ._turns import (
    clear_segments,
    conversation_messages,
    conversation_stats,
    last_reply_id,
    pop_last_turn,
)

__all__ = ["SessionManager"]

logger = logging.getLogger("llm_sessions.api.simple_api")


def _span_attributes(manager: SessionManager) -> dict[str, str]:
    return {"gen_ai.conversation.id": manager.session_id}


class SessionManager(StreamingConversation, PromptReading):
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

    Args:
        session_id: The conversation's id (any segment's in infinite mode); None: a new one.
        infinite_context: Split the conversation into summarised segments.
        token_threshold: Tokens after which the next user message starts a segment.
        max_turns_per_segment: Turns after which the next user message starts a segment.
        store: A store or a store URL (default: the process-wide default store).
        create: Create the session on first use when it does not exist.
        system_prompt: The system prompt to record and send first.
        model: The model that counts and prices user messages.
        summarizer: Makes a new segment's summary: ``async (messages, model) -> str``.
        summarization_strategy: The extractive summary used without a summarizer.
        summary_fallback: Use the extractive summary when the summarizer raises.
        tool_options: Options of the tool processor ``tools`` makes.
        compaction: How the prompt is compacted (a ``Compaction``; see ``compact``).
        user_id: Who the session this manager creates belongs to; its segments and forks
            keep it. A session that exists already keeps its own.
        properties: Top-level properties (JSON values) of the session this manager creates.
        recall: Add the best matching messages of the user's other sessions to each prompt
            (a ``Recall``; see ``get_messages_for_llm``).
    """

    async def set_system_prompt(self, system_prompt: str) -> None:
        """Change the system prompt; the new one is recorded and sent first from now on.

        Args:
            system_prompt: The new system prompt.

        Raises:
            InvalidInputError: It is not a string.
        """
        if system_prompt is None:
            raise InvalidInputError("system_prompt", system_prompt, "must be a string")
        self._system_prompt = check_system_prompt(system_prompt)
        await self._record_system_prompt(await self._ensure_session())

    async def get_system_prompt(self) -> str | None:
        """The current system prompt.

        Returns:
            The newest system prompt, or None when there is none.
        """
        return self._prompts.current((await self._refreshed_session()).events)

    async def get_session(self) -> Session[Any]:
        """The current session (in infinite mode, the newest segment) as the store holds it now,
        created first if it does not exist yet.

        Returns:
            The session.
        """
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
        """Record a user message. A list of texts and ``Attachment``s stores each attachment's
        bytes once in the store's blob area and records references to them.

        Args:
            message: The message (text, any JSON value, or a list of texts and attachments).
            **metadata: JSON values kept in the event's metadata.

        Returns:
            The current session id (in infinite mode it changes when this message starts a
            new segment).

        Raises:
            InvalidInputError: The message or metadata is not JSON, or an attachment is over
                the store's blob size limit.
        """
        ensure_json_value(metadata, "metadata")
        if has_attachments(message):  # blobs stored before the session changes
            event = await attachment_event(message, self.store, self._model, metadata)
            session = await self._segment_for_user_message()
            await session.add_event_and_save(event)
            return session.id
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
        of counting when given.

        Args:
            response: The reply.
            model: The model that replied (counts and prices the reply).
            provider: The provider, kept in the event's metadata.
            usage: The provider's reported usage.
            **metadata: JSON values kept in the event's metadata.

        Returns:
            The current session id.

        Raises:
            InvalidInputError: The reply or metadata is not valid.
        """
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

        Args:
            tool_name: The tool's name.
            arguments: The arguments it was called with.
            result: Its result (a JSON value).
            error: The error message, when the call failed.
            call_id: The id of the reply's tool call this answers.
            **metadata: JSON values kept in the event's metadata.

        Returns:
            The current session id.
        """
        message = tool_call_message(tool_name, arguments, result, error, call_id, metadata)
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
        each result as a child of the reply (see ``SessionAwareToolProcessor``).

        Args:
            llm_msg: The reply (a dict, ``ChatCompletionMessage`` or ``ChatCompletion``).
            llm_callback: Asked for a new reply when no tool call of the reply is valid.
            usage: The provider's reported usage for the reply.

        Returns:
            One result per tool call; empty for a reply without calls.
        """
        await self._ensure_session()
        results = await self.tools.process_llm_message(llm_msg, llm_callback, usage=usage)
        session = await self._refreshed_session()
        self._last_reply_id = last_reply_id(session)
        return results

    # -- undo -------------------------------------------------------------------------------

    async def pop_last_turn(self) -> list[SessionEvent[Any]]:
        """Remove the newest user message and everything after it (replies, tool calls); the
        system prompt stays.

        Returns:
            The removed events.

        Raises:
            InvalidSessionOperation: The current session has no user message (nothing changes).
        """
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
        original is not changed.

        Args:
            at_event_id: The last event to copy; None copies them all.
            session_id: The fork's id (default: a new one).

        Returns:
            A manager for the fork.

        Raises:
            InvalidInputError: ``at_event_id`` is not an event of the conversation.
        """
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
            compaction=self._compaction,
            user_id=fork.metadata.user_id,
            recall=self._recall,
        )

    async def delete(self) -> int:
        """Delete the conversation from the store, every segment of it in infinite mode. Using
        the manager afterwards starts the conversation afresh under the same id.

        Returns:
            How many sessions were deleted.
        """
        segments = await self._all_segments(True)
        deleted = 0
        for segment in segments:
            deleted += bool(await self.store.delete(segment.id))
        self._session = None
        self._last_reply_id = None
        self._segments.forget()  # the same settings, no remembered chain
        return deleted

    # -- reading ----------------------------------------------------------------------------

    async def get_conversation(
        self, include_all_segments: bool | None = None, *, all_segments: bool | None = None
    ) -> list[dict[str, Any]]:
        """The user and assistant messages as ``{"role", "content", "timestamp"}`` dicts; in
        infinite mode every segment's by default (``all_segments=False``: the newest only).

        Args:
            include_all_segments: The old name of ``all_segments``.
            all_segments: Cover every segment (None: every one in infinite mode).

        Returns:
            The messages, oldest first.
        """
        include = all_segments if all_segments is not None else include_all_segments
        return conversation_messages(await self._all_segments(include))

    async def get_session_chain(self) -> list[str]:
        """The ids of every segment of the conversation.

        Returns:
            The ids, root first (just this session's id when not infinite).
        """
        return [segment.id for segment in await self._all_segments(True)]

    async def get_stats(
        self, include_all_segments: bool | None = None, *, all_segments: bool | None = None
    ) -> dict[str, Any]:
        """Counts, tokens and cost of the conversation (across every segment by default in
        infinite mode); ``events_by_type`` counts events by type, custom types included, and
        ``unpriced_models`` names the models whose tokens ``estimated_cost`` leaves out.

        Args:
            include_all_segments: The old name of ``all_segments``.
            all_segments: Cover every segment (None: every one in infinite mode).

        Returns:
            ``total_events``, ``user_messages``, ``ai_messages``, ``tool_calls``,
            ``total_tokens``, ``estimated_cost`` and more, by name.
        """
        include = all_segments if all_segments is not None else include_all_segments
        stats = conversation_stats(await self._all_segments(include))
        return {"session_id": self.session_id, **stats, "infinite_context": self._infinite_context}
