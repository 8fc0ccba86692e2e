"""Alias of ``llm_sessions.session_prompt_builder`` (the name a2a-session-manager used)."""

from .session_prompt_builder import PromptStrategy as PromptStrategy
from .session_prompt_builder import build_prompt_from_session as build_prompt_from_session
from .session_prompt_builder import truncate_prompt_to_token_limit as truncate_prompt_to_token_limit

__all__ = ["PromptStrategy", "build_prompt_from_session", "truncate_prompt_to_token_limit"]
