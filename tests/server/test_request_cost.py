"""What one request costs the server beyond its store: no thread hand-off on the event loop."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import httpx
import pytest


async def test_an_append_and_a_page_read_run_nothing_in_the_thread_pool(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation = (await client.post("/v1/conversations", json={})).json()["id"]
    handed_off: list[Any] = []

    async def refuse(function: Any, *args: Any, **kwargs: Any) -> Any:
        handed_off.append(function)
        return function(*args)

    monkeypatch.setattr(anyio.to_thread, "run_sync", refuse)
    item = {"type": "message", "role": "user", "content": "hello"}
    appended = await client.post(f"/v1/conversations/{conversation}/items", json={"items": [item]})
    assert appended.status_code == 200
    page = await client.get(f"/v1/conversations/{conversation}/items")
    assert [each["content"][0]["text"] for each in page.json()["data"]] == ["hello"]
    assert handed_off == []
