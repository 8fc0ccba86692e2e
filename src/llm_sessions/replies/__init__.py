"""Reading what an LLM call returned, whatever shape the client gave it."""

from ._read import AssistantReply, ToolCallRequest, read_reply

__all__ = ["AssistantReply", "ToolCallRequest", "read_reply"]
