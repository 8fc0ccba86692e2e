"""Session-aware tool processing: run the tool calls an LLM asks for, recorded in a session.

::

    from llm_sessions.session_aware_tool_processor import SessionAwareToolProcessor

    processor = await SessionAwareToolProcessor.create(session_id=session.id)
    results = await processor.process_llm_message(assistant_message, llm_callback)
    for result in results:
        print(result.tool, result.result if result.succeeded else result.error)

The reply becomes an LLM MESSAGE event; each tool call a TOOL_CALL event (its child), all inside a
``SessionRun``. The calls run concurrently, with a timeout, retries, and a cache of identical
calls. See ``llm_sessions.tool_processing.processor`` for the exact rules.
"""

from __future__ import annotations

from .tool_processing import (
    DEFAULT_LLM_RETRY_PROMPT,
    LLMCallback,
    SessionAwareToolProcessor,
    ToolErrorType,
    ToolResult,
    TransientToolError,
    retry_transient,
)

__all__ = [
    "DEFAULT_LLM_RETRY_PROMPT",
    "LLMCallback",
    "SessionAwareToolProcessor",
    "ToolErrorType",
    "ToolResult",
    "TransientToolError",
    "retry_transient",
]
