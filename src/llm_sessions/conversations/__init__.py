"""Conversations longer than a context window: segments, summaries and the manager of both."""

from ._compact import CompactionReport, compact_history, compaction_view
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
    "CompactionReport",
    "InfiniteConversationManager",
    "LLMCallback",
    "SummarizationStrategy",
    "compact_history",
    "compaction_view",
    "extractive_summary",
    "summarize_segment",
    "summary_request",
]
