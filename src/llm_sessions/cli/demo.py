"""``llm-sessions demo``: a scripted agent conversation through the public API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..api import SessionManager
from ..models import Session
from ..storage import SessionStore
from ..tool_processing import SessionAwareToolProcessor
from .demo_tools import MODEL, SCRIPT, ScriptedModel, build_registry

__all__ = ["DemoResult", "run_demo"]


@dataclass
class DemoResult:
    """What the demo stored: the conversation's segments, oldest first, and its stats."""

    segments: list[Session[Any]]
    stats: dict[str, Any]


async def run_demo(store: SessionStore) -> DemoResult:
    """Play ``SCRIPT``: each turn a user message, a model reply whose tool calls run through
    the session-aware processor, and a final answer; two turns per segment, so the third turn
    starts a new segment that begins with a summary of the first."""
    registry = build_registry()
    manager = SessionManager(
        infinite_context=True, max_turns_per_segment=2, store=store, model=MODEL
    )
    for turn in SCRIPT:
        await manager.user_says(turn["user"])
        processor = await SessionAwareToolProcessor.create(
            manager.session_id,
            registry=registry,
            store=store,
            model=MODEL,
            max_retries=1,
            retry_delay=0.01,
            max_llm_retries=1,
        )
        await processor.process_llm_message(turn["reply"], ScriptedModel(turn).retry)
        await manager.ai_responds(
            turn["final"], model=turn.get("model", MODEL), provider="scripted (offline)"
        )
    chain = await manager.get_session_chain()
    segments = [session for sid in chain if (session := await store.get(sid)) is not None]
    return DemoResult(segments=segments, stats=await manager.get_stats())
