"""Running the tool calls of an LLM reply inside a session (see ``processor`` for the rules).

The public module is ``llm_sessions.session_aware_tool_processor``; this package holds the parts:
``replies`` (reading a reply), ``planning`` (checking a call), ``execution`` (timeouts and
retries), ``cache``, ``events`` (what is recorded) and ``results`` (``ToolResult``).
"""

from __future__ import annotations

from .processor import DEFAULT_LLM_RETRY_PROMPT, LLMCallback, SessionAwareToolProcessor
from .results import ToolErrorType, ToolResult
from .retry import TransientToolError, retry_transient

__all__ = [
    "DEFAULT_LLM_RETRY_PROMPT",
    "LLMCallback",
    "SessionAwareToolProcessor",
    "ToolErrorType",
    "ToolResult",
    "TransientToolError",
    "retry_transient",
]
