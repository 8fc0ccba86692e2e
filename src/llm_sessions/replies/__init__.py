"""Reading what an LLM call returned, whatever shape the client gave it, streamed or not."""

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
from ._stream_chunks import ChunkDeltas, ToolCallDelta, chunk_deltas

__all__ = [
    "AssistantReply",
    "ChunkDeltas",
    "RecordedReply",
    "ToolCallDelta",
    "ToolCallRequest",
    "as_text",
    "chunk_deltas",
    "read_reply",
    "recorded_reply",
    "response_text",
    "response_usage",
]
