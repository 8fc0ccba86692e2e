"""Prompts for the next LLM call, built from a session under a token budget (see ``_builder``).

The modules here are private; this package's exports are its public API.

- ``_builder``: ``build_prompt_from_session`` / ``build_prompt_from_store`` and truncation.
- ``_render``: one event (and the tool calls linked to it) as OpenAI-style chat messages.
- ``_groups``: the newest-first walk that groups an assistant reply with its tool results.
- ``_custom``: renderers registered for custom event types.
- ``_budget``: token costs (cached) and fitting candidates into a token budget.
- ``_strategies``: what each ``PromptStrategy`` puts in a prompt.
- ``_compaction``: the compaction policy; old tool results as stubs, compaction summaries.
- ``_parents``: the context a session inherits from its parent sessions.
- ``_recall``: the recall policy; the user's other sessions' best matches as one message.
- ``_retention_trim``: what a retention policy removes from a session, and its stub.
"""

from ._budget import prompt_tokens
from ._builder import (
    EventRenderer,
    PromptStrategy,
    build_prompt_from_session,
    build_prompt_from_store,
    register_event_renderer,
    truncate_prompt_to_token_limit,
    unregister_event_renderer,
)
from ._compaction import Compaction, is_compaction_event
from ._recall import Recall
from ._retention_trim import is_retention_stub

__all__ = [
    "Compaction",
    "EventRenderer",
    "PromptStrategy",
    "Recall",
    "build_prompt_from_session",
    "build_prompt_from_store",
    "is_compaction_event",
    "is_retention_stub",
    "prompt_tokens",
    "register_event_renderer",
    "truncate_prompt_to_token_limit",
    "unregister_event_renderer",
]
