"""Conversations longer than a context window: segments, summaries and the manager of both."""

from ._infinite import SEGMENT_STATE_KEY, InfiniteConversationManager
from ._summaries import (
    LLMCallback,
    SummarizationStrategy,
    extractive_summary,
    summarize_segment,
    summary_request,
)

__all__ = [
    "SEGMENT_STATE_KEY",
    "InfiniteConversationManager",
    "LLMCallback",
    "SummarizationStrategy",
    "extractive_summary",
    "summarize_segment",
    "summary_request",
]
