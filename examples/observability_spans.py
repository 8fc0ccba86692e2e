"""The spans and metrics of one chat turn with a tool call: spans through OpenTelemetry's
console exporter, metrics read from an in-memory reader (needs
``pip install "llm-sessions[otel]" opentelemetry-sdk``).

    python examples/observability_spans.py
"""

# expect: span llm_sessions.user_says
# expect: span execute_tool weather
# expect: span llm_sessions.ai_responds {'gen_ai.request.model': 'gpt-4o-mini'
# expect: span store.save {'llm_sessions.store.kind': 'InMemorySessionStore'
# expect: metric gen_ai.client.token.usage
# expect: metric llm_sessions.store.operation.duration
# expect: metric llm_sessions.tool.calls {'gen_ai.tool.name': 'weather', 'llm_sessions.outcome'

from __future__ import annotations

import asyncio

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

from llm_sessions import SessionManager, telemetry
from llm_sessions.session_aware_tool_processor import SessionAwareToolProcessor
from llm_sessions.storage import InMemorySessionStore
from llm_sessions.tools import ToolRegistry


def span_line(span: object) -> str:
    """One line per span: its name and the attributes that matter here."""
    name = getattr(span, "name", "?")
    attributes = dict(getattr(span, "attributes", None) or {})
    shown = {k: v for k, v in attributes.items() if k.startswith(("gen_ai.", "llm_sessions."))}
    return f"span {name} {shown}\n"


async def main() -> None:
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(
        SimpleSpanProcessor(ConsoleSpanExporter(formatter=span_line))
    )
    metrics = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[metrics])
    telemetry.configure(tracer_provider=tracer_provider, meter_provider=meter_provider)

    registry = ToolRegistry()

    async def weather(city: str) -> str:
        """Today's weather in a city (scripted)."""
        return f"sunny, 21 °C in {city}"

    registry.register(weather, name="weather")
    store = InMemorySessionStore()
    sm = SessionManager(store=store)
    await sm.user_says("What's the weather in Lisbon?")
    processor = SessionAwareToolProcessor(sm.session_id, registry=registry, store=store)
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "weather", "arguments": '{"city": "Lisbon"}'},
    }
    await processor.process_llm_message(
        {"role": "assistant", "content": None, "tool_calls": [call]}, None
    )
    await sm.ai_responds("It is sunny and 21 °C in Lisbon.", model="gpt-4o-mini")
    await sm.get_messages_for_llm(max_tokens=2000)

    data = metrics.get_metrics_data()
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    value = getattr(point, "value", None)
                    if value is None:  # a histogram: its count and sum
                        value = f"count={point.count} sum={point.sum:.6g}"
                    print(f"metric {metric.name} {dict(point.attributes or {})} {value}")
    meter_provider.shutdown()
    tracer_provider.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
