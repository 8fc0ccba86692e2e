"""/healthz, /readyz and /metrics."""

from __future__ import annotations

import httpx


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}


async def test_metrics_count_requests_latency_and_writes(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/v1/conversations", json={"items": [{"role": "user", "content": "hi"}]}
    )
    await client.get(f"/v1/conversations/{created.json()['id']}")
    await client.get("/v1/conversations/alpha.conv_missing")
    response = await client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert (
        'llm_sessions_http_requests_total{method="GET",route="/v1/conversations/{conversation_id}",'
        'status="404"} 1' in text
    )
    assert (
        'llm_sessions_http_requests_total{method="POST",route="/v1/conversations",status="200"} 1'
        in text
    )
    assert (
        'llm_sessions_http_request_duration_seconds_count{method="GET",'
        'route="/v1/conversations/{conversation_id}"} 2' in text
    )
    assert 'le="+Inf"' in text
    assert "llm_sessions_sessions_created_total 1" in text
    assert "llm_sessions_events_written_total 1" in text
