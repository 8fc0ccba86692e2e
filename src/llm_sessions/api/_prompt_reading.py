"""The prompt a conversation sends next, and its staged compaction (``SessionManager``'s)."""

from __future__ import annotations

from typing import Any

from .. import telemetry
from ..conversations._compact import CompactionReport, compact_history, compaction_view
from ..exceptions import InvalidSessionOperation
from ..models._event_source import EventSource
from ..models._session import Session
from ..models._session_event import SessionEvent
from ..prompting._attachment_parts import resolve_attachments
from ..prompting._builder import (
    PromptStrategy,
    check_prompt_arguments,
    load_tokenizer,
    prompt_from_events,
)
from ..prompting._incomplete import check_incomplete_mode, with_incomplete_replies
from ..prompting._recall import RecalledHit, find_recalled, prompt_with_recall, recall_query
from ..storage._blob_collection import blob_area
from ._conversation_base import ConversationBase
from ._system_prompt import with_system_prompt

__all__ = ["PromptReading"]


def _span_attributes(manager: ConversationBase) -> dict[str, str]:
    return {"gen_ai.conversation.id": manager.session_id}


def _estimate(event: SessionEvent[Any]) -> int:
    """An event's prompt tokens, as recorded: a reply's completion, anything else's prompt
    (a provider's usage of a reply counts the whole prompt it was given as prompt tokens)."""
    usage = event.token_usage
    if usage is None:
        return _PER_MESSAGE
    own = usage.completion_tokens if event.source is EventSource.LLM else usage.prompt_tokens
    return own + _PER_MESSAGE


#: Tokens a chat message costs beyond its text (role, separators), rounded up.
_PER_MESSAGE = 8


class PromptReading(ConversationBase):
    """``get_messages_for_llm`` and ``compact`` (see ``SessionManager``)."""

    @telemetry.traced("llm_sessions.build_prompt", _span_attributes)
    async def get_messages_for_llm(
        self,
        max_tokens: int | None = None,
        model: str | None = None,
        *,
        incomplete: str = "include",
    ) -> list[dict[str, Any]]:
        """The chat messages to send next: the summary of earlier segments (as a system
        message), then this segment's messages with tool calls and results, within
        ``max_tokens`` if given.

        With a ``compaction`` policy, old tool results are sent as stubs and, once the history
        passes ``summarize_at_tokens``, its oldest part is summarised first (see ``compact``).
        A recorded compaction summary always stands in for the events it summarised.

        With a ``recall`` policy, one search of the user's other sessions for the newest user
        message's words adds their best matches (not the current session's, nor text the
        prompt holds already) as one system message right after the system prompt, within
        the policy's ``max_tokens`` and counted in ``max_tokens``.

        Args:
            max_tokens: The budget, counted by ``model``'s tokenizer; None for no limit.
            model: The model the prompt is for (default: the manager's).
            incomplete: A reply whose stream was cut: ``"include"`` it, its text ending with
                a note that it was cut off (its unfinished tool calls left out), or
                ``"drop"`` it.

        Returns:
            The chat messages, oldest first.

        Raises:
            InvalidInputError: A bad argument, naming it.
            TokenLimitExceeded: The newest user message alone is over ``max_tokens``.
            InvalidSessionOperation: With ``recall``, the store cannot search (an encrypted
                store without a plaintext index, a store with its index off, a custom store).
            Exception: The summarizer's own error, when compaction needed it (nothing is
                recorded then).
        """
        model = model or self._model
        check_prompt_arguments(max_tokens, model)
        check_incomplete_mode(incomplete)
        if max_tokens is not None or self._compaction is not None or self._recall is not None:
            await load_tokenizer(model)
        session = await self._refreshed_session()
        policy = self._compaction
        if policy is not None and policy.summarize_at_tokens is not None:
            await self._compact_if_over(session, model, policy.summarize_at_tokens)
        recalled = await self._recalled(session) if self._recall is not None else []
        # From here on nothing awaits: the events cannot change while the prompt is made.
        history, system, budget = with_system_prompt(
            self._prompts, session.events, max_tokens, model
        )
        shown = with_incomplete_replies(history, incomplete, self._cut_replies)
        visible = compaction_view(shown, policy, model, self._compactions)
        if self._recall is not None and recalled:
            messages = prompt_with_recall(visible, budget, model, recalled, self._recall, system)
        else:
            messages = prompt_from_events(visible, PromptStrategy.CONVERSATION, budget, model)
        messages = messages if system is None else [system, *messages]
        return await resolve_attachments(messages, blob_area(self.store).get_many)

    async def _recalled(self, session: Session[Any]) -> list[RecalledHit]:
        """What the recall policy finds for the newest user message: one search of the
        user's other sessions (nothing without a policy, a user or a query)."""
        recall, user_id = self._recall, session.metadata.user_id
        if recall is None or user_id is None:
            return []
        query = recall_query(session.events)
        if query is None:
            return []
        return await find_recalled(self.store, recall, user_id, session.id, query)

    async def compact(self, *, force: bool = False, model: str | None = None) -> CompactionReport:
        """Run the compaction policy on the current session (segment) now.

        Stage 1 (tool results older than ``trim_tool_results_after_turns`` turns sent as
        stubs) changes no stored event. Stage 2 runs when the history's prompt passes
        ``summarize_at_tokens`` (or with ``force=True``): the oldest span, all but
        ``keep_recent_tokens`` of the newest history and never splitting a tool call from its
        result, is summarised by the ``summarizer`` (extractively without one) and recorded as
        a SUMMARY event whose ``metadata["compaction"]["event_ids"]`` names the span's events;
        they stay in the store but leave the prompt.

        Args:
            force: Summarise even below ``summarize_at_tokens``.
            model: The model that counts tokens and is passed to the summarizer (default:
                the manager's).

        Returns:
            What was done: stubs and tokens saved, events summarised, tokens before and
            after, and the compaction event's id (None when nothing was summarised).

        Raises:
            InvalidSessionOperation: The manager has no ``compaction`` policy.
            Exception: The summarizer's own error (nothing is recorded).
        """
        model = model or self._model
        check_prompt_arguments(None, model)
        await load_tokenizer(model)
        return await self._compact_session(await self._refreshed_session(), model, force=force)

    async def _compact_if_over(self, session: Session[Any], model: str, threshold: int) -> None:
        """Stage 2 when the history is over ``threshold``. The history's tokens are known
        from the last exact count plus an estimate of the events since (which can only be
        high: stubs and summaries make it smaller), so most prompts skip the exact walk."""
        events = session.events
        seen = self._history_tokens.get(session.id)
        if seen is not None and seen[2] == model and 0 < seen[0] <= len(events):
            if events[seen[0] - 1].id == seen[3]:
                total = seen[1] + sum(_estimate(event) for event in events[seen[0] :])
                if total <= threshold:
                    self._history_tokens[session.id] = (len(events), total, model, events[-1].id)
                    return
        report = await self._compact_session(session, model, force=False, measure=False)
        events = session.events
        if events:
            exact = (len(events), report.tokens_after, model, events[-1].id)
            self._history_tokens = {session.id: exact}

    async def _compact_session(
        self, session: Session[Any], model: str, *, force: bool, measure: bool = True
    ) -> CompactionReport:
        policy = self._compaction
        if policy is None:
            raise InvalidSessionOperation("compact", "the manager was given no compaction policy")
        history = self._prompts.history(session.events)
        return await compact_history(
            session,
            history,
            policy,
            self._summarizer,
            model,
            force=force,
            measure_stage_one=measure,
        )
