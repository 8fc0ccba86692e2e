"""OpenTelemetry: one chat turn with a tool call, seen through the SDK's in-memory exporters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

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
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "weather", "arguments": '{"city": "Paris"}'},
    }
    await processor.process_llm_message(
        {"role": "assistant", "content": None, "tool_calls": [call]}, None
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
