"""Sessions for the inspector tests, recorded through the public API (the model's replies are
scripted; the tools really run, and one really fails)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from llm_sessions import SessionManager
from llm_sessions.models.event_source import EventSource
from llm_sessions.models.event_type import EventType
from llm_sessions.models.session import Session
from llm_sessions.models.session_event import SessionEvent
from llm_sessions.models.session_metadata import SessionMetadata
from llm_sessions.session_aware_tool_processor import SessionAwareToolProcessor
from llm_sessions.storage import SessionStore
from llm_sessions.tools import ToolRegistry, register_tool

SCRIPT_TEXT = "<script>alert(1)</script>"
IMG_TEXT = "<img src=x onerror=window.__xss=1>"
TOOL_ERROR = "no weather station for 'Atlantis'"
UNPRICED_MODEL = "local-llama-3-8b"


def _registry() -> ToolRegistry:
    registry = ToolRegistry()

    @register_tool(registry=registry)
    async def weather(location: str) -> dict[str, Any]:
        """Current weather for a city (only Tokyo has a station)."""
        if location != "Tokyo":
            raise LookupError(f"no weather station for {location!r}")
        return {"location": location, "temperature_c": 21}

    return registry


def _reply(call_id: str, location: str) -> dict[str, Any]:
    arguments = json.dumps({"location": location})
    call = {
        "id": call_id,
        "type": "function",
        "function": {"name": "weather", "arguments": arguments},
    }
    return {"role": "assistant", "content": None, "tool_calls": [call]}


async def record_conversation(store: SessionStore, session_id: str) -> None:
    """A conversation with a failing tool (two attempts), a summary, a custom event type, an
    unpriced model's reply and the XSS texts."""
    async with SessionManager(session_id, store=store, model="gpt-4o-mini") as manager:
        await manager.user_says(SCRIPT_TEXT)
        processor = await SessionAwareToolProcessor.create(
            session_id, registry=_registry(), store=store, max_retries=1, retry_delay=0.01
        )
        await processor.process_llm_message(_reply("call_1", "Atlantis"), None)
        await manager.ai_responds(IMG_TEXT, model=UNPRICED_MODEL)
    session = await store.get(session_id)
    assert session is not None
    await session.add_event(
        SessionEvent(
            message="Earlier: weather questions.", type=EventType.SUMMARY, source=EventSource.SYSTEM
        )
    )
    await session.add_event(
        SessionEvent(message={"query": "atlantis"}, type="retrieval", source=EventSource.SYSTEM)
    )
    await store.save(session)


async def put_dated_session(
    store: SessionStore, session_id: str, days_ago: int, model: str = "gpt-4o-mini"
) -> None:
    """A session whose one event (a priced or unpriced reply) is ``days_ago`` days old."""
    event = await SessionEvent.create_with_tokens(
        message="hello", prompt=None, completion="hello", model=model
    )
    event.timestamp = datetime.now(UTC) - timedelta(days=days_ago)
    # Dated as a session last written then: lists read the session's own update time.
    metadata = SessionMetadata(created_at=event.timestamp, updated_at=event.timestamp)
    await store.save(Session(id=session_id, events=[event], metadata=metadata))
