"""Alias of ``llm_sessions.session_prompt_builder`` (the name a2a-session-manager used)."""

from .session_prompt_builder import *  # noqa: F403
from .session_prompt_builder import __all__ as __all__
