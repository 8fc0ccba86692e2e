"""A reply that streams into the store reaches the live tail as it grows: first as a
``session.event``, then as ``session.event.updated`` versions until it is complete."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from server_helpers import server_process

from llm_sessions import SessionManager


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def next_message(lines: AsyncIterator[str]) -> tuple[str, dict[str, Any]]:
    """The kind and data of the next SSE message (keep-alive comments skipped); a tail
    that sends nothing for 20 seconds fails the test."""
    return await asyncio.wait_for(_read_message(lines), 20)


async def _read_message(lines: AsyncIterator[str]) -> tuple[str, dict[str, Any]]:
    kind = None
    async for line in lines:
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: ") and kind is not None:
            return kind, json.loads(line.removeprefix("data: "))
    raise AssertionError("the stream ended")


async def test_the_tail_sends_a_streaming_reply_as_it_grows(sqlite_url: str) -> None:
    sm = SessionManager("live", store=sqlite_url)
    await sm.user_says("Go")
    clock = FakeClock()
    with server_process(sqlite_url) as base_url:
        async with (
            httpx.AsyncClient(base_url=base_url, timeout=30) as client,
            client.stream("GET", "/v1/sessions/live/events/stream") as tail,
        ):
            lines = tail.aiter_lines()
            assert await anext(lines) == ": tailing"
            async with sm.ai_stream(model="gpt-4o", clock=clock) as reply:
                clock.now = 1.0
                await reply.write("Hel")
                kind, event = await next_message(lines)
                assert (kind, event["message"]["content"]) == ("session.event", "Hel")
                assert event["metadata"]["incomplete"] is True

                clock.now = 2.0
                await reply.write("lo")
                kind, update = await next_message(lines)
                assert (kind, update["id"]) == ("session.event.updated", event["id"])
                assert update["message"]["content"] == "Hello"

            kind, final = await next_message(lines)
            assert (kind, final["id"]) == ("session.event.updated", event["id"])
            assert final["message"]["content"] == "Hello"
            assert "incomplete" not in final["metadata"]
            await sm.user_says("Next")
            kind, after = await next_message(lines)
            assert (kind, after["message"]) == ("session.event", "Next")
    await sm.close()


async def test_a_tail_opened_mid_stream_follows_the_growing_reply(sqlite_url: str) -> None:
    sm = SessionManager("late", store=sqlite_url)
    clock = FakeClock()
    with server_process(sqlite_url) as base_url:
        async with (
            httpx.AsyncClient(base_url=base_url, timeout=30) as client,
            sm.ai_stream(model="gpt-4o", clock=clock) as reply,
        ):
            clock.now = 1.0
            await reply.write("Already ")  # written before any tail is open
            async with client.stream("GET", "/v1/sessions/late/events/stream") as tail:
                lines = tail.aiter_lines()
                assert await anext(lines) == ": tailing"
                kind, now = await next_message(lines)  # its version at the start
                assert (kind, now["message"]["content"]) == ("session.event.updated", "Already ")
                clock.now = 2.0
                await reply.write("going")
                kind, update = await next_message(lines)
                assert (kind, update["message"]["content"]) == (
                    "session.event.updated",
                    "Already going",
                )
    await sm.close()
