"""A failing tool leaves its exception and a bounded traceback in its event, per attempt."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from chat_messages import assistant, call
from llm_sessions import SessionManager
from llm_sessions.models.event_type import EventType
from llm_sessions.models.session import Session
from llm_sessions.session_aware_tool_processor import SessionAwareToolProcessor
from llm_sessions.session_prompt_builder import PromptStrategy, build_prompt_from_session
from llm_sessions.tool_processing.failures import MAX_TRACEBACK_BYTES, format_traceback
from llm_sessions.tools import ToolRegistry


class StationMissing(RuntimeError):
    """The tool's own error type."""


def _deep_failure(depth: int) -> None:
    if depth == 0:
        raise StationMissing("no weather station for 'Atlantis'")
    _deep_failure(depth - 1)


async def _stored_failures(session: Session[Any]) -> list[dict[str, Any]]:
    loaded = await session.store.get(session.id)
    assert loaded is not None
    [event] = [event for event in loaded.events if event.type is EventType.TOOL_CALL]
    failures: list[dict[str, Any]] = event.message["failures"]
    return failures


async def test_each_attempt_records_its_exception_and_traceback(
    session: Session[Any], registry: ToolRegistry
) -> None:
    calls = 0

    async def weather(city: str) -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.sleep(60)  # cut short by the per-attempt timeout
        _deep_failure(3)
        return "sunny"

    registry.register(weather, name="weather")
    processor = SessionAwareToolProcessor(
        session.id, registry=registry, retry_delay=0, max_retries=1, timeout=0.05
    )
    [result] = await processor.process_llm_message(assistant(call("weather", {"city": "X"})), None)

    assert result.error is not None and "StationMissing" in result.error
    failures = await _stored_failures(session)
    assert [f["attempt"] for f in failures] == [1, 2]
    assert failures[0]["exception_type"] == "TimeoutError"
    assert failures[0]["traceback"] is None
    second = failures[1]
    assert second["exception_type"] == "StationMissing"
    assert second["message"] == "no weather station for 'Atlantis'"
    trace = second["traceback"]
    assert "_deep_failure" in trace and "in weather" in trace
    assert trace.rstrip().endswith("StationMissing: no weather station for 'Atlantis'")
    # Paths are relative to their import root, not this machine's layout.
    assert 'test_tool_processor_failures.py", line' in trace
    for line in trace.splitlines():
        if line.lstrip().startswith('File "'):
            assert not line.lstrip().startswith('File "/'), line


async def test_tracebacks_never_reach_the_prompt(
    session: Session[Any], registry: ToolRegistry
) -> None:
    def broken(city: str) -> str:
        _deep_failure(2)
        return "never"

    registry.register(broken, name="broken")
    processor = SessionAwareToolProcessor(session.id, registry=registry, max_retries=0)
    await processor.process_llm_message(assistant(call("broken", {"city": "X"})), None)
    loaded = await session.store.get(session.id)
    assert loaded is not None

    prompt = json.dumps(await build_prompt_from_session(loaded, PromptStrategy.CONVERSATION))
    assert "no weather station" in prompt  # the error itself is what the model should see
    assert "Traceback" not in prompt
    assert "_deep_failure" not in prompt
    assert (await _stored_failures(loaded))[0]["traceback"].startswith("Traceback")


def test_long_tracebacks_keep_their_last_bytes() -> None:
    try:
        raise StationMissing("é" * MAX_TRACEBACK_BYTES + " the end")
    except StationMissing as exc:
        text = format_traceback(exc)
    assert len(text.encode()) <= MAX_TRACEBACK_BYTES
    assert text.startswith("…(earlier frames cut)")
    assert text.rstrip().endswith("éé the end")


async def test_tracebacks_never_reach_get_messages_for_llm(registry: ToolRegistry) -> None:
    def broken(city: str) -> str:
        _deep_failure(2)
        return "never"

    registry.register(broken, name="broken")
    manager = SessionManager(tool_options={"registry": registry, "max_retries": 0})
    await manager.user_says("Weather in Atlantis?")
    await manager.process_llm_message(assistant(call("broken", {"city": "Atlantis"})))
    await manager.ai_responds("There is no station there.", model="gpt-4o-mini")

    messages = await manager.get_messages_for_llm()
    [tool_message] = [message for message in messages if message["role"] == "tool"]
    assert "no weather station for 'Atlantis'" in tool_message["content"]
    text = json.dumps(messages)
    assert "Traceback" not in text and "_deep_failure" not in text
    assert "failures" not in text and "attempt" not in text
    assert (await _stored_failures(await manager.get_session()))[0]["traceback"]
