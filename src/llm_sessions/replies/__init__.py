"""Reading what an LLM call returned, whatever shape the client gave it."""

from ._read import (
    AssistantReply,
    RecordedReply,
    ToolCallRequest,
    as_text,
    read_reply,
    recorded_reply,
    response_text,
    response_usage,
)

__all__ = [
    "AssistantReply",
    "RecordedReply",
    "ToolCallRequest",
    "as_text",
    "read_reply",
    "recorded_reply",
    "response_text",
    "response_usage",
]
