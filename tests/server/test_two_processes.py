"""Two server processes over one store serve the same sessions, and the live tail of one sees
what is written through the other."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_helpers import KEY_A, KEY_B, KEYS, server_processes

from llm_sessions.storage import open_store

AUTH = {"Authorization": f"Bearer {KEY_A}"}


@pytest.fixture(params=["sqlite", "redis", "postgres"])
async def shared_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    token = uuid.uuid4().hex[:12]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.db'}"
        return
    if request.param == "redis":
        url = f"{request.getfixturevalue('redis_url')}?key_prefix=test-server-{token}:"
    else:
        url = f"{request.getfixturevalue('postgres_url')}?schema=test_server_{token}"
    yield url
    cleaner = open_store(url)
    await cleaner.drop_all()  # type: ignore[attr-defined]
    await cleaner.close()


async def _next_events(lines: AsyncIterator[str], count: int) -> list[dict[str, Any]]:
    """The data of the next ``count`` session.event messages of an SSE stream."""
    found: list[dict[str, Any]] = []
    kind = None
    async for line in lines:
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: ") and kind == "session.event":
            found.append(json.loads(line.removeprefix("data: ")))
            if len(found) == count:
                return found
    raise AssertionError(f"the stream ended after {len(found)} of {count} events")


async def test_one_process_reads_and_tails_what_the_other_writes(shared_store_url: str) -> None:
    keys = ",".join(f"{key}={tenant}" for key, tenant in KEYS.items())
    with server_processes(shared_store_url, 2, {"LLM_SESSIONS_API_KEYS": keys}) as (one, two):
        timeout = httpx.Timeout(30)
        async with (
            httpx.AsyncClient(base_url=one, headers=AUTH, timeout=timeout) as writer,
            httpx.AsyncClient(base_url=two, headers=AUTH, timeout=timeout) as reader,
        ):
            created = await writer.post(
                "/v1/conversations", json={"items": [{"role": "user", "content": "first"}]}
            )
            conversation = created.json()["id"]
            items = (await reader.get(f"/v1/conversations/{conversation}/items")).json()
            assert [item["content"][0]["text"] for item in items["data"]] == ["first"]

            stream_path = f"/v1/sessions/{conversation}/events/stream"
            async with reader.stream("GET", stream_path) as tail:
                assert tail.status_code == 200
                assert tail.headers["content-type"].startswith("text/event-stream")
                lines = tail.aiter_lines()
                assert await anext(lines) == ": tailing"
                await writer.post(
                    f"/v1/sessions/{conversation}/events",
                    json={"events": [{"message": "second"}, {"message": "third"}]},
                )
                events = await _next_events(lines, 2)
            assert [event["message"] for event in events] == ["second", "third"]

            async with httpx.AsyncClient(
                base_url=two, headers={"Authorization": f"Bearer {KEY_B}"}, timeout=timeout
            ) as other_tenant:
                refused = await other_tenant.get(stream_path)
            assert refused.status_code == 404
