"""Prompts for the next LLM call, built from a session under a token budget.

``build_prompt_from_session`` turns a session's events into OpenAI-style chat messages::

    USER message                    -> {"role": "user", "content": ...}
    LLM message (text or OpenAI     -> {"role": "assistant", "content": ..., "tool_calls": [...]}
      message dict) + its TOOL_CALL    followed by one {"role": "tool", "tool_call_id": ...,
      events                           "content": <result text or JSON>} per tool call
    SYSTEM message, SUMMARY,        -> {"role": "system", "content": ...}
      CONTEXT_BRIDGE
    REFERENCE                       -> left out

A TOOL_CALL event belongs to the reply its ``parent_event_id`` names. One without a parent
belongs to the nearest assistant reply before it, unless a user or system message comes in
between; tool calls with no reply to carry them get a content-less assistant message of their
own. A tool event whose ``parent_event_id`` names no earlier event of the session is left
out. The tool call id is the event's ``tool_call_id`` when it has one, else ``call_<event id>``.

Under ``max_tokens`` (counted with the model's tokenizer, exactly as ``count_chat_messages``
counts) the newest user message is always kept, the session's opening system messages (a
system prompt, a rolling summary) and the strategy's anchors (task, parent context) next if
they fit, then the rest newest first until the next would not fit: the oldest part is what
goes. An assistant tool call and its results are kept or dropped together. The history is
walked newest first and the walk stops when the budget is full, and message token counts are
cached, so a long session costs no more than a short one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from ..exceptions import InvalidInputError, SessionNotFound
from ..models._session import Session
from ..models._session_event import SessionEvent
from ..storage import SessionStore, SessionStoreInterface
from ..storage._binding import binding_of
from ..storage._blob_collection import read_blobs
from ..tokens import count_text_async
from ..validation import validate_id
from ._attachment_parts import resolve_attachments
from ._budget import Candidate, fit_plan
from ._custom import EventRenderer, register_event_renderer, unregister_event_renderer
from ._parents import parent_context
from ._strategies import PromptStrategy, plan_for
from ._tail import NeedOlder, TailReader
from ._truncate import truncate_messages

__all__ = [
    "EventRenderer",
    "PromptStrategy",
    "build_prompt_from_session",
    "build_prompt_from_store",
    "register_event_renderer",
    "truncate_prompt_to_token_limit",
    "unregister_event_renderer",
]

DEFAULT_MODEL = "gpt-4o-mini"


async def build_prompt_from_session(
    session: Session[Any],
    strategy: PromptStrategy | str = PromptStrategy.MINIMAL,
    max_tokens: int | None = None,
    model: str = DEFAULT_MODEL,
    include_parent_context: bool = False,
    current_query: str | None = None,
) -> list[dict[str, Any]]:
    """Chat messages for the next call to ``model``, chosen from ``session`` by ``strategy``.

    ``strategy`` is a ``PromptStrategy`` or its value (``"minimal"``, ``"task"``, ``"tool"``,
    ``"conversation"``, ``"hierarchical"``). ``include_parent_context`` adds one system message
    with the parent sessions' latest summaries (else their last exchange), read from the
    session's store; HIERARCHICAL is CONVERSATION plus that context. ``current_query`` is added
    as the newest user message.

    Args:
        session: The session to read.
        strategy: Which events to send (a ``PromptStrategy`` or its value).
        max_tokens: The budget, counted by ``model``'s tokenizer; None for no limit.
        model: The model the prompt is for.
        include_parent_context: Add the parent sessions' context as one system message.
        current_query: A user message to add as the newest one.

    Returns:
        The chat messages, oldest first (``{"role", "content", ...}`` dicts); attachments as
        ``image_url`` and ``file`` parts with their bytes as data URLs.

    Raises:
        InvalidInputError: A bad argument (a ``ValueError``), naming it.
        TokenLimitExceeded: The newest user message alone is over ``max_tokens``.
        StorageError: A blob an event names is missing from the session's store.
    """
    _check_session(session)
    chosen = _check_strategy(strategy)
    check_prompt_arguments(max_tokens, model)
    _check_flag("include_parent_context", include_parent_context)
    _check_query(current_query)
    context = await parent_context(session) if include_parent_context else None
    if max_tokens is not None:
        await load_tokenizer(model)
    # Nothing awaits while the prompt is made: the events cannot change meanwhile. Then the
    # attachments' bytes are read from the session's store.
    messages = prompt_from_events(session.events, chosen, max_tokens, model, current_query, context)
    return await resolve_attachments(messages, partial(read_blobs, binding_of(session).store))


async def build_prompt_from_store(
    store: SessionStoreInterface,
    session_id: str,
    strategy: PromptStrategy | str = PromptStrategy.CONVERSATION,
    max_tokens: int | None = None,
    model: str = DEFAULT_MODEL,
    current_query: str | None = None,
) -> list[dict[str, Any]]:
    """The prompt ``build_prompt_from_session`` makes from the stored session ``session_id``,
    reading as little of it as the prompt needs.

    A CONVERSATION (or HIERARCHICAL, without parent context) prompt under ``max_tokens`` reads
    the log from its end, page by page, until the budget is full: its cost follows the budget,
    not the length of the session. Other strategies, no budget, or a store without
    ``read_events`` load the whole session. The pages are separate reads: events another
    writer adds meanwhile may or may not be in.

    Args:
        store: The store holding the session.
        session_id: The session's id.
        strategy: Which events to send (a ``PromptStrategy`` or its value).
        max_tokens: The budget, counted by ``model``'s tokenizer; None for no limit.
        model: The model the prompt is for.
        current_query: A user message to add as the newest one.

    Returns:
        The chat messages, oldest first, as ``build_prompt_from_session`` gives them.

    Raises:
        SessionNotFound: The store holds no session of that id.
        InvalidInputError: A bad argument, naming it.
        TokenLimitExceeded: The newest user message alone is over ``max_tokens``.
    """
    chosen = _check_strategy(strategy)
    check_prompt_arguments(max_tokens, model)
    validate_id(session_id, "session_id")
    _check_query(current_query)
    if max_tokens is None or chosen not in _TAIL_STRATEGIES or not isinstance(store, SessionStore):
        session = await store.get(session_id)
        if session is None:
            raise SessionNotFound(session_id)
        return await build_prompt_from_session(
            session, chosen, max_tokens, model, current_query=current_query
        )
    await load_tokenizer(model)
    reader = TailReader(store, session_id)
    window = await reader.start()
    while True:
        try:
            return prompt_from_events(window, chosen, max_tokens, model, current_query)
        except NeedOlder:
            window = await reader.more()


_TAIL_STRATEGIES = (PromptStrategy.CONVERSATION, PromptStrategy.HIERARCHICAL)


def prompt_from_events(
    events: Sequence[SessionEvent[Any]],
    strategy: PromptStrategy,
    max_tokens: int | None,
    model: str,
    current_query: str | None = None,
    context: Candidate | None = None,
    recalled: Candidate | None = None,
) -> list[dict[str, Any]]:
    """The prompt ``build_prompt_from_session`` makes, from checked arguments and the events
    themselves (any sequence: a session's list, a view of it, a tail read from a store).
    ``context`` (parent context) comes first among the candidates the budget favours,
    ``recalled`` (a recall message) last."""
    plan = plan_for(strategy, events, current_query)
    if context is not None:
        plan.priority.insert(0, context)
    if recalled is not None:
        plan.priority.append(recalled)
    return fit_plan(plan, max_tokens, model)


async def truncate_prompt_to_token_limit(
    prompt: Sequence[Mapping[str, Any]],
    max_tokens: int,
    model: str = DEFAULT_MODEL,
) -> list[dict[str, Any]]:
    """``prompt`` cut to ``max_tokens``: the first system message if it fits, the newest user
    message always, then the newest messages that fit, in their original order.

    A message is kept or dropped with the ``tool`` messages right after it, so tool calls and
    results stay together. Returns new dicts (shallow copies). When the newest user message
    alone is over the budget, it comes back alone (the shortest prompt there is) and a warning
    is logged; ``build_prompt_from_session`` raises ``TokenLimitExceeded`` there instead.

    Args:
        prompt: The chat messages, oldest first.
        max_tokens: The budget, counted by ``model``'s tokenizer.
        model: The model the prompt is for.

    Returns:
        The messages kept, in their original order.

    Raises:
        InvalidInputError: A bad argument, naming it.
    """
    _check_prompt(prompt)
    _check_max_tokens(max_tokens, required=True)
    _check_model(model)
    await load_tokenizer(model)
    return truncate_messages(prompt, max_tokens, model)


def check_prompt_arguments(max_tokens: object, model: object) -> None:
    """``InvalidInputError`` for a ``max_tokens`` or ``model`` a prompt cannot be built with."""
    _check_max_tokens(max_tokens)
    _check_model(model)


async def load_tokenizer(model: str) -> None:
    """Load ``model``'s tokenizer, off the event loop the first time."""
    # The first count loads the vocabulary; do that in a worker thread, off the event loop.
    await count_text_async("x", model)


def _check_session(session: object) -> None:
    if not isinstance(session, Session):
        raise InvalidInputError("session", session, "must be a Session")


def _check_strategy(strategy: object) -> PromptStrategy:
    if isinstance(strategy, PromptStrategy):
        return strategy
    if isinstance(strategy, str):
        try:
            return PromptStrategy(strategy)
        except ValueError:
            pass
    allowed = ", ".join(repr(member.value) for member in PromptStrategy)
    raise InvalidInputError("strategy", strategy, f"must be a PromptStrategy or one of {allowed}")


def _check_max_tokens(max_tokens: object, *, required: bool = False) -> None:
    if max_tokens is None and not required:
        return
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens <= 0:
        expected = "a positive integer" if required else "a positive integer or None"
        raise InvalidInputError("max_tokens", max_tokens, f"must be {expected}")


def _check_model(model: object) -> None:
    if not isinstance(model, str) or not model.strip():
        raise InvalidInputError("model", model, "must be a non-empty model name")


def _check_query(current_query: object) -> None:
    if current_query is not None and not isinstance(current_query, str):
        raise InvalidInputError("current_query", current_query, "must be a string or None")


def _check_flag(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidInputError(name, value, "must be True or False")


def _check_prompt(prompt: object) -> None:
    if isinstance(prompt, str | bytes | Mapping) or not isinstance(prompt, Sequence):
        raise InvalidInputError("prompt", prompt, "must be a list of chat message dicts")
    for index, message in enumerate(prompt):
        if not isinstance(message, Mapping) or not isinstance(message.get("role"), str):
            raise InvalidInputError(
                f"prompt[{index}]", message, "must be a dict with a string 'role'"
            )
