"""OpenTelemetry: chat turns with tool calls seen through the SDK's in-memory exporters, and
what runs when the package is not installed."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from chat_messages import assistant, call
from llm_sessions import SessionManager, telemetry
from llm_sessions.session_aware_tool_processor import SessionAwareToolProcessor
from llm_sessions.storage import SQLiteSessionStore
from llm_sessions.tools import ToolRegistry


class Exported:
    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.metrics = InMemoryMetricReader()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.meter_provider = MeterProvider(metric_readers=[self.metrics])

    def named(self, name: str) -> list[ReadableSpan]:
        return [span for span in self.spans.get_finished_spans() if span.name == name]

    def points(self, metric_name: str) -> list[Any]:
        data = self.metrics.get_metrics_data()
        assert data is not None
        return [
            point
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name == metric_name
            for point in metric.data.data_points
        ]


@pytest.fixture
def exported() -> Iterator[Exported]:
    found = Exported()
    telemetry.configure(tracer_provider=found.tracer_provider, meter_provider=found.meter_provider)
    telemetry.set_enabled(True)
    yield found
    telemetry.configure()
    found.tracer_provider.shutdown()
    found.meter_provider.shutdown()


def _attributes(span: ReadableSpan) -> Mapping[str, Any]:
    assert span.attributes is not None
    return span.attributes


def _parent(span: ReadableSpan, spans: list[ReadableSpan]) -> ReadableSpan | None:
    parent_id = span.parent.span_id if span.parent is not None else None
    return next((s for s in spans if s.context.span_id == parent_id), None)


async def test_a_turn_with_a_tool_call_emits_spans_and_metrics(
    exported: Exported, tmp_path: Path
) -> None:
    store = SQLiteSessionStore(tmp_path / "t.db")
    registry = ToolRegistry()

    async def weather(city: str) -> str:
        return f"sunny in {city}"

    registry.register(weather, name="weather")
    sm = SessionManager(store=store)
    await sm.user_says("Weather in Paris?")
    processor = SessionAwareToolProcessor(sm.session_id, registry=registry, store=store)
    await processor.process_llm_message(
        assistant(call("weather", {"city": "Paris"}, call_id="call_1")), None
    )
    await sm.ai_responds("It is sunny in Paris.", model="gpt-4o-mini", provider="openai")
    await sm.get_messages_for_llm(max_tokens=1000)
    await store.close()

    spans = list(exported.spans.get_finished_spans())
    [user] = exported.named("llm_sessions.user_says")
    [reply] = exported.named("llm_sessions.ai_responds")
    [prompt] = exported.named("llm_sessions.build_prompt")
    [tool] = exported.named("execute_tool weather")
    [attempt] = exported.named("llm_sessions.tool.attempt")
    for turn in (user, reply, prompt):
        assert turn.attributes is not None
        assert turn.attributes["gen_ai.conversation.id"] == sm.session_id
    assert reply.attributes is not None
    assert reply.attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert reply.attributes["gen_ai.usage.output_tokens"] > 0
    assert reply.attributes["llm_sessions.cost_usd"] > 0
    assert tool.attributes is not None
    assert tool.attributes["gen_ai.operation.name"] == "execute_tool"
    assert tool.attributes["gen_ai.tool.call.id"] == "call_1"
    assert _parent(attempt, spans) is tool
    # Store operations are children of the call that made them.
    saves = exported.named("store.save")
    # The first save creates the session, the last writes the user's message.
    user_save = [save for save in saves if _parent(save, spans) is user][-1]
    assert user_save.attributes is not None
    assert user_save.attributes["llm_sessions.store.kind"] == "SQLiteSessionStore"
    assert user_save.attributes["llm_sessions.store.events"] == 1
    assert user_save.attributes["llm_sessions.store.bytes"] > 0

    tokens = exported.points("gen_ai.client.token.usage")
    assert {
        (p.attributes["gen_ai.request.model"], p.attributes["gen_ai.token.type"]) for p in tokens
    } >= {("gpt-4o-mini", "input"), ("gpt-4o-mini", "output")}
    [cost] = exported.points("llm_sessions.cost")
    assert cost.value > 0
    [calls] = exported.points("llm_sessions.tool.calls")
    assert calls.attributes == {"gen_ai.tool.name": "weather", "llm_sessions.outcome": "success"}
    assert calls.value == 1
    durations = exported.points("llm_sessions.store.operation.duration")
    operations = {p.attributes["llm_sessions.store.operation"] for p in durations}
    assert operations >= {"save", "get"}


async def test_nothing_is_emitted_when_telemetry_is_off(exported: Exported) -> None:
    telemetry.set_enabled(False)
    try:
        sm = SessionManager()
        await sm.user_says("hello")
        assert telemetry.span("x") is telemetry.span("y")  # one shared do-nothing object
    finally:
        telemetry.set_enabled(True)
    assert exported.spans.get_finished_spans() == ()


async def test_a_turn_through_the_manager_links_tool_calls_retries_and_outcomes(
    exported: Exported,
) -> None:
    registry = ToolRegistry()
    attempts = 0

    async def rainfall(city: str) -> str:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise ConnectionError("gauge offline")
        return f"3 mm in {city}"

    def divide(a: float, b: float) -> float:
        return a / b

    registry.register(rainfall, name="rainfall")
    registry.register(divide, name="divide")
    sm = SessionManager(tool_options={"registry": registry, "retry_delay": 0, "max_retries": 1})
    await sm.user_says("Rain in Oslo, and 1/0?")
    await sm.process_llm_message(
        assistant(
            call("rainfall", {"city": "Oslo"}, call_id="c1"),
            call("divide", {"a": 1, "b": 0}, call_id="c2"),
        )
    )
    await sm.ai_responds("3 mm of rain; 1/0 has no value.", model="gpt-4o", provider="openai")

    spans = list(exported.spans.get_finished_spans())
    [processing] = exported.named("llm_sessions.process_llm_message")
    [rain] = exported.named("execute_tool rainfall")
    [division] = exported.named("execute_tool divide")
    assert _parent(rain, spans) is processing and _parent(division, spans) is processing
    rain_attempts = sorted(
        (s for s in spans if _parent(s, spans) is rain and s.name == "llm_sessions.tool.attempt"),
        key=lambda s: s.start_time or 0,
    )
    assert [_attributes(s)["llm_sessions.tool.attempt"] for s in rain_attempts] == [1, 2]
    assert rain_attempts[0].status.status_code is StatusCode.ERROR
    assert _attributes(rain_attempts[0])["error.type"] == "execution"
    assert rain_attempts[1].status.status_code is StatusCode.UNSET
    assert rain.status.status_code is StatusCode.UNSET
    assert division.status.status_code is StatusCode.ERROR
    assert "division by zero" in (division.status.description or "")
    assert division.attributes is not None
    assert division.attributes["gen_ai.tool.name"] == "divide"
    assert division.attributes["gen_ai.tool.call.id"] == "c2"

    session = await sm.get_session()
    [answer] = [e for e in session.events if e.source.value == "llm" and isinstance(e.message, str)]
    usage = answer.token_usage
    assert usage is not None and usage.estimated_cost_usd is not None
    [reply_span] = exported.named("llm_sessions.ai_responds")
    assert reply_span.attributes is not None
    assert reply_span.attributes["gen_ai.request.model"] == "gpt-4o"
    assert reply_span.attributes["gen_ai.usage.input_tokens"] == usage.prompt_tokens
    assert reply_span.attributes["gen_ai.usage.output_tokens"] == usage.completion_tokens
    assert reply_span.attributes["llm_sessions.cost_usd"] == pytest.approx(usage.estimated_cost_usd)

    outcomes = {
        (p.attributes["gen_ai.tool.name"], p.attributes["llm_sessions.outcome"]): p.value
        for p in exported.points("llm_sessions.tool.calls")
    }
    assert outcomes == {("rainfall", "success"): 1, ("divide", "error"): 1}
    output_tokens = {
        p.attributes["gen_ai.request.model"]: p.sum
        for p in exported.points("gen_ai.client.token.usage")
        if p.attributes["gen_ai.token.type"] == "output"
    }
    assert output_tokens["gpt-4o"] == usage.completion_tokens
    costs = {
        p.attributes["gen_ai.request.model"]: p.value for p in exported.points("llm_sessions.cost")
    }
    assert costs["gpt-4o"] == pytest.approx(usage.estimated_cost_usd)
    durations = exported.points("llm_sessions.store.operation.duration")
    saves = [p for p in durations if p.attributes["llm_sessions.store.operation"] == "save"]
    assert saves and all(
        p.attributes["llm_sessions.store.kind"] == "InMemorySessionStore" for p in saves
    )
    assert sum(p.count for p in saves) >= 3  # the user's message, the reply, each tool call


_WITHOUT_OPENTELEMETRY = """
import asyncio, sys
sys.modules["opentelemetry"] = None  # imports of it fail, as when it is not installed
from llm_sessions import SessionManager, telemetry

async def turn():
    sm = SessionManager()
    await sm.user_says("hello")
    await sm.ai_responds("hi there", model="gpt-4o-mini")
    return len((await sm.get_session()).events)

telemetry.set_enabled(True)
print(asyncio.run(turn()), telemetry.is_enabled(), hasattr(SessionManager.user_says, "__wrapped__"))
print(sorted(name for name in sys.modules if name and name.startswith("opentelemetry.")))
"""


def test_without_opentelemetry_nothing_is_wrapped_or_imported() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_OPENTELEMETRY], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["2 False False", "[]"]


async def test_spans_cost_nothing_until_a_provider_is_configured() -> None:
    # With the API installed but no SDK configured, OpenTelemetry's spans would go nowhere.
    assert telemetry.is_enabled() is False
    assert telemetry.span("x") is telemetry.span("y")
    exported = Exported()
    telemetry.configure(tracer_provider=exported.tracer_provider)
    try:
        assert telemetry.is_enabled() is True
        await SessionManager().user_says("hello")
        assert [span.name for span in exported.named("llm_sessions.user_says")] == [
            "llm_sessions.user_says"
        ]
    finally:
        telemetry.configure()
        exported.tracer_provider.shutdown()
    assert telemetry.is_enabled() is False


def test_a_global_provider_set_later_turns_spans_on() -> None:
    # In a child process: OpenTelemetry's global provider can be set once per process.
    script = (
        "from opentelemetry import trace\n"
        "from opentelemetry.sdk.trace import TracerProvider\n"
        "from llm_sessions import telemetry\n"
        "before = telemetry.is_enabled()\n"
        "trace.set_tracer_provider(TracerProvider())\n"
        "print(before, telemetry.is_enabled())\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert found.stdout.split() == ["False", "True"]
