"""Prompts for the next LLM call, built from a session under a token budget (see ``_builder``).

- ``_builder``: ``build_prompt_from_session`` / ``build_prompt_from_store`` and truncation.
- ``render``: one event (and the tool calls linked to it) as OpenAI-style chat messages.
- ``groups``: the newest-first walk that groups an assistant reply with its tool results.
- ``custom``: renderers registered for custom event types.
- ``budget``: token costs (cached) and fitting candidates into a token budget.
- ``strategies``: what each ``PromptStrategy`` puts in a prompt.
- ``parents``: the context a session inherits from its parent sessions.
"""

from ._builder import (
    EventRenderer,
    PromptStrategy,
    build_prompt_from_session,
    build_prompt_from_store,
    register_event_renderer,
    truncate_prompt_to_token_limit,
    unregister_event_renderer,
)

__all__ = [
    "EventRenderer",
    "PromptStrategy",
    "build_prompt_from_session",
    "build_prompt_from_store",
    "register_event_renderer",
    "truncate_prompt_to_token_limit",
    "unregister_event_renderer",
]
