"""With opentelemetry installed, each request is a span named by its route, around store spans."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from llm_sessions import telemetry


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.configure(tracer_provider=provider)
    telemetry.set_enabled(True)
    yield exporter
    telemetry.configure()
    provider.shutdown()


async def test_a_request_span_wraps_the_store_spans(
    spans: InMemorySpanExporter, client: httpx.AsyncClient
) -> None:
    created = await client.post("/v1/conversations", json={})
    await client.get(f"/v1/conversations/{created.json()['id']}")
    finished = spans.get_finished_spans()
    [create] = [span for span in finished if span.name == "POST /v1/conversations"]
    [read] = [span for span in finished if span.name == "GET /v1/conversations/{conversation_id}"]
    assert create.attributes is not None and create.attributes["http.response.status_code"] == 200
    assert read.attributes is not None
    assert read.attributes["http.route"] == "/v1/conversations/{conversation_id}"
    children = [
        span.name
        for span in finished
        if span.parent is not None and span.parent.span_id == create.context.span_id
    ]
    assert "store.save" in children


async def test_no_request_spans_when_telemetry_is_off(
    spans: InMemorySpanExporter, client: httpx.AsyncClient
) -> None:
    telemetry.set_enabled(False)
    try:
        assert (await client.get("/healthz")).status_code == 200
    finally:
        telemetry.set_enabled(True)
    assert spans.get_finished_spans() == ()
