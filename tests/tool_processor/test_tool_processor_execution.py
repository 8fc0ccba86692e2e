"""Running the calls: concurrency, errors, timeouts, retries and the cache."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from chat_messages import assistant, call
from llm_sessions.exceptions import InvalidInputError
from llm_sessions.models.event_type import EventType
from llm_sessions.models.session import Session
from llm_sessions.models.session_run import RunStatus
from llm_sessions.session_aware_tool_processor import (
    SessionAwareToolProcessor,
    ToolErrorType,
    TransientToolError,
    retry_transient,
)
from llm_sessions.tool_processing import execution
from llm_sessions.tools import ToolRegistry


def processor_for(
    session: Session[Any], registry: ToolRegistry, **options: Any
) -> SessionAwareToolProcessor:
    options.setdefault("retry_delay", 0)
    return SessionAwareToolProcessor(session.id, registry=registry, **options)


def tool_events(session: Session[Any]) -> list[Any]:
    return [event for event in session.events if event.type is EventType.TOOL_CALL]


# How long a tool waits for the others to start; reached only when the calls do not overlap.
FAILURE_TIMEOUT = 10.0


async def test_three_tools_run_concurrently(session: Session[Any], registry: ToolRegistry) -> None:
    started: list[str] = []
    all_started = asyncio.Event()
    for name in ("alpha", "beta", "gamma"):

        async def waits_for_the_others(tag: str, _name: str = name) -> str:
            started.append(_name)
            if len(started) == 3:
                all_started.set()
            # Run one after another, the first call would wait here until the timeout.
            await asyncio.wait_for(all_started.wait(), timeout=FAILURE_TIMEOUT)
            return f"{_name}:{tag}"

        registry.register(waits_for_the_others, name=name)
    processor = processor_for(session, registry, max_retries=0, timeout=FAILURE_TIMEOUT * 3)
    message = assistant(
        call("alpha", {"tag": "a"}), call("beta", {"tag": "b"}), call("gamma", {"tag": "c"})
    )

    results = await processor.process_llm_message(message, None)

    assert [r.error for r in results] == [None, None, None]
    assert [r.result for r in results] == ["alpha:a", "beta:b", "gamma:c"]
    assert sorted(started) == ["alpha", "beta", "gamma"]


async def test_results_keep_the_order_of_the_calls_not_of_completion(
    session: Session[Any], registry: ToolRegistry
) -> None:
    gate = asyncio.Event()

    @registry.register
    async def first() -> str:
        await gate.wait()  # finishes only after `second` ran
        return "first"

    @registry.register
    async def second() -> str:
        gate.set()
        return "second"

    processor = processor_for(session, registry)
    results = await processor.process_llm_message(assistant(call("first"), call("second")), None)

    assert [r.result for r in results] == ["first", "second"]
    assert [e.message["tool"] for e in tool_events(session)] == ["first", "second"]


async def test_a_tool_that_raises_gives_an_error_result_and_a_failed_event(
    session: Session[Any], registry: ToolRegistry
) -> None:
    @registry.register
    def divide(a: float, b: float) -> float:
        return a / b

    processor = processor_for(session, registry, max_retries=0)
    (result,) = await processor.process_llm_message(
        assistant(call("divide", {"a": 1, "b": 0}, "call_1")), None
    )

    assert result.error == "ZeroDivisionError: float division by zero"
    assert result.error_type is ToolErrorType.EXECUTION
    assert result.result is None and not result.succeeded
    assert result.tool_call_id == "call_1"
    (event,) = tool_events(session)
    assert event.message["success"] is False
    assert event.message["error"] == result.error
    assert event.message["error_type"] == "execution"
    (run,) = session.runs
    assert run.status is RunStatus.FAILED
    assert "divide: ZeroDivisionError" in run.metadata["failure_reason"]
    assert run.metadata["failed"] == 1


async def test_one_failing_tool_does_not_stop_the_others(
    session: Session[Any], registry: ToolRegistry
) -> None:
    @registry.register
    async def broken() -> None:
        raise RuntimeError("boom")

    @registry.register
    async def fine() -> str:
        await asyncio.sleep(0.01)
        return "ok"

    processor = processor_for(session, registry, max_retries=0)
    broken_result, fine_result = await processor.process_llm_message(
        assistant(call("broken"), call("fine")), None
    )

    assert broken_result.error == "RuntimeError: boom"
    assert fine_result.result == "ok"


async def test_a_slow_tool_times_out(session: Session[Any], registry: ToolRegistry) -> None:
    cancelled = asyncio.Event()

    @registry.register
    async def hang() -> None:
        try:
            await asyncio.sleep(30)
        finally:
            cancelled.set()

    processor = processor_for(session, registry, timeout=0.05, max_retries=0)
    (result,) = await processor.process_llm_message(assistant(call("hang")), None)

    assert result.error == "timed out after 0.05s"
    assert result.error_type is ToolErrorType.TIMEOUT
    assert result.attempts == 1
    assert cancelled.is_set()  # the tool's task was cancelled, not left running
    (event,) = tool_events(session)
    assert event.message["success"] is False


async def test_timeouts_are_retried(session: Session[Any], registry: ToolRegistry) -> None:
    calls = 0

    @registry.register
    async def sometimes_slow() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.sleep(30)
        return "fast this time"

    processor = processor_for(session, registry, timeout=0.05, max_retries=1)
    (result,) = await processor.process_llm_message(assistant(call("sometimes_slow")), None)

    assert result.result == "fast this time"
    assert result.attempts == 2


async def test_a_tool_that_fails_once_is_retried(
    session: Session[Any], registry: ToolRegistry
) -> None:
    calls = 0

    @registry.register
    async def flaky(city: str) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("upstream hiccup")
        return {"city": city, "temperature": 21}

    processor = processor_for(session, registry, max_retries=2)
    (result,) = await processor.process_llm_message(
        assistant(call("flaky", {"city": "Oslo"})), None
    )

    assert result.succeeded
    assert result.attempts == 2
    assert calls == 2
    (event,) = tool_events(session)  # one event per call, not per attempt
    assert event.message["attempts"] == 2
    assert event.message["success"] is True
    assert session.runs[0].status is RunStatus.COMPLETED


async def test_retries_stop_after_max_retries_with_backoff(
    session: Session[Any], registry: ToolRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    delays: list[float] = []
    real_sleep = asyncio.sleep

    async def recorded_sleep(seconds: float, result: Any = None) -> Any:
        if seconds > 0:
            delays.append(seconds)
        return await real_sleep(0, result)

    @registry.register
    async def always_fails() -> None:
        raise TransientToolError("rate limited")

    monkeypatch.setattr(execution.asyncio, "sleep", recorded_sleep)
    processor = processor_for(session, registry, max_retries=2, retry_delay=0.02)
    (result,) = await processor.process_llm_message(assistant(call("always_fails")), None)

    assert result.attempts == 3
    assert result.error == "TransientToolError: rate limited"
    assert delays == pytest.approx([0.02, 0.04])  # the delay doubles


@pytest.mark.parametrize(
    "error",
    [
        LookupError("no weather station for 'Atlantis'"),
        KeyError("x"),
        ValueError("v"),
        TypeError("t"),
        RuntimeError("r"),
    ],
)
async def test_errors_of_the_call_itself_are_not_retried(
    session: Session[Any], registry: ToolRegistry, error: Exception
) -> None:
    calls = 0

    @registry.register
    async def weather(location: str) -> None:
        nonlocal calls
        calls += 1
        raise error

    processor = processor_for(session, registry, max_retries=3, retry_delay=0)
    (result,) = await processor.process_llm_message(
        assistant(call("weather", {"location": "Atlantis"})), None
    )
    assert (result.attempts, calls) == (1, 1)
    assert result.error is not None and type(error).__name__ in result.error


async def test_an_error_the_tool_marks_transient_is_retried(
    session: Session[Any], registry: ToolRegistry
) -> None:
    class Busy(ValueError):
        transient = True

    calls = 0

    @registry.register
    async def service() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise Busy("try later")
        return "done"

    processor = processor_for(session, registry, max_retries=3, retry_delay=0)
    (result,) = await processor.process_llm_message(assistant(call("service")), None)
    assert result.result == "done" and result.attempts == 3


async def test_retry_on_replaces_the_rule(session: Session[Any], registry: ToolRegistry) -> None:
    calls = 0

    @registry.register
    async def lookup() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise KeyError("cold cache")
        return "warm"

    processor = processor_for(
        session,
        registry,
        max_retries=1,
        retry_delay=0,
        retry_on=lambda exc: isinstance(exc, KeyError),
    )
    (result,) = await processor.process_llm_message(assistant(call("lookup")), None)
    assert result.result == "warm" and result.attempts == 2
    assert retry_transient(KeyError("x")) is False
    assert retry_transient(ConnectionError("x")) and retry_transient(TimeoutError())


def test_retry_on_that_is_not_callable_is_refused(session: Session[Any]) -> None:
    with pytest.raises(InvalidInputError, match="retry_on"):
        SessionAwareToolProcessor(session.id, retry_on="timeouts")


async def test_results_without_json_form_are_errors_and_not_retried(
    session: Session[Any], registry: ToolRegistry
) -> None:
    calls = 0

    @registry.register
    def opaque() -> object:
        nonlocal calls
        calls += 1
        return object()

    processor = processor_for(session, registry, max_retries=2)
    (result,) = await processor.process_llm_message(assistant(call("opaque")), None)

    assert result.error_type is ToolErrorType.INVALID_RESULT
    assert "not a JSON value" in (result.error or "")
    assert calls == 1


async def test_identical_calls_are_answered_from_the_cache(
    session: Session[Any], registry: ToolRegistry
) -> None:
    executions = 0

    @registry.register
    async def lookup(city: str, units: str = "metric") -> dict[str, Any]:
        nonlocal executions
        executions += 1
        return {"city": city, "units": units}

    processor = processor_for(session, registry)
    (first,) = await processor.process_llm_message(
        assistant(call("lookup", '{"city": "Rome", "units": "metric"}')), None
    )
    # the same arguments, written in another order and spacing
    (second,) = await processor.process_llm_message(
        assistant(call("lookup", '{"units":"metric","city":"Rome"}')), None
    )
    (other,) = await processor.process_llm_message(
        assistant(call("lookup", {"city": "Paris"})), None
    )

    assert executions == 2
    assert (first.cached, second.cached, other.cached) == (False, True, False)
    assert second.result == first.result
    assert second.attempts == 0
    events = tool_events(session)
    assert [e.message["cached"] for e in events] == [False, True, False]


async def test_identical_calls_in_one_message_run_once(
    session: Session[Any], registry: ToolRegistry
) -> None:
    executions = 0

    @registry.register
    async def lookup(city: str) -> str:
        nonlocal executions
        executions += 1
        await asyncio.sleep(0.01)
        return city.upper()

    processor = processor_for(session, registry)
    results = await processor.process_llm_message(
        assistant(call("lookup", {"city": "rome"}), call("lookup", {"city": "rome"})), None
    )

    assert executions == 1
    assert [r.result for r in results] == ["ROME", "ROME"]
    assert sorted(r.cached for r in results) == [False, True]


async def test_failures_are_not_cached(session: Session[Any], registry: ToolRegistry) -> None:
    executions = 0

    @registry.register
    async def fails_first() -> str:
        nonlocal executions
        executions += 1
        if executions == 1:
            raise RuntimeError("first call fails")
        return "ok"

    processor = processor_for(session, registry, max_retries=0)
    (failed,) = await processor.process_llm_message(assistant(call("fails_first")), None)
    (succeeded,) = await processor.process_llm_message(assistant(call("fails_first")), None)

    assert failed.error is not None
    assert succeeded.result == "ok" and not succeeded.cached
    assert executions == 2


async def test_caching_can_be_turned_off(session: Session[Any], registry: ToolRegistry) -> None:
    executions = 0

    @registry.register
    async def counter() -> int:
        nonlocal executions
        executions += 1
        return executions

    processor = processor_for(session, registry, enable_caching=False)
    for _ in range(3):
        await processor.process_llm_message(assistant(call("counter")), None)

    assert executions == 3


async def test_the_cache_is_bounded(session: Session[Any], registry: ToolRegistry) -> None:
    executions: list[int] = []

    @registry.register
    async def square(n: int) -> int:
        executions.append(n)
        return n * n

    processor = processor_for(session, registry, cache_size=2)
    for n in (1, 2, 3, 1):  # 1 was evicted by 3
        await processor.process_llm_message(assistant(call("square", {"n": n})), None)

    assert executions == [1, 2, 3, 1]
    processor.clear_cache()
    await processor.process_llm_message(assistant(call("square", {"n": 3})), None)
    assert executions[-1] == 3
