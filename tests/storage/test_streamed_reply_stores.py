"""A streamed reply on every durable store: written at each checkpoint, one reply on the read
side, and after ``kill -9`` mid-stream an incomplete reply with the text of its last checkpoint."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from typing import TYPE_CHECKING, Any

from llm_sessions import SessionManager
from llm_sessions.models import SessionEvent
from llm_sessions.storage import open_store, redact_pii

if TYPE_CHECKING:
    from store_cases import StoreCase


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def stored_replies(url: str, session_id: str) -> list[SessionEvent[Any]]:
    store = open_store(url)
    try:
        session = await store.get(session_id)
        assert session is not None
        return [event for event in session.events if event.metadata.get("model") == "gpt-4o"]
    finally:
        await store.close()


async def test_a_streamed_reply_is_written_at_each_checkpoint_and_read_as_one(
    durable_case: StoreCase,
) -> None:
    clock = FakeClock()
    sm = SessionManager(store=durable_case.open())
    await sm.user_says("Go")
    async with sm.ai_stream(model="gpt-4o", checkpoint_ms=250, clock=clock) as reply:
        await reply.write("a")  # the first checkpoint is one interval after the start
        assert await stored_replies(durable_case.url, sm.session_id) == []

        clock.now = 0.25
        await reply.write("b")
        [event] = await stored_replies(durable_case.url, sm.session_id)
        assert (event.message["content"], event.metadata["incomplete"]) == ("ab", True)

        clock.now = 0.499
        await reply.write("c")  # no checkpoint due
        [event] = await stored_replies(durable_case.url, sm.session_id)
        assert event.message["content"] == "ab"

        clock.now = 0.5
        await reply.write("d")
        [event] = await stored_replies(durable_case.url, sm.session_id)
        assert event.message["content"] == "abcd"
        reply.set_usage({"prompt_tokens": 3, "completion_tokens": 2})

    [event] = await stored_replies(durable_case.url, sm.session_id)
    assert event.message == {"role": "assistant", "content": "abcd"}
    assert "incomplete" not in event.metadata
    assert event.token_usage is not None and event.token_usage.completion_tokens == 2


WRITER = """
import asyncio, sys
from llm_sessions import SessionManager

async def main(url):
    sm = SessionManager("streamed", store=url)
    await sm.user_says("Tell me everything")
    async with sm.ai_stream(model="gpt-4o", checkpoint_ms=0) as reply:
        n = 0
        while True:
            await reply.write(f"w{n} ")
            print(n, flush=True)  # acknowledged: this text reached the store
            n += 1

asyncio.run(main(sys.argv[1]))
"""


def test_kill_9_mid_stream_leaves_an_incomplete_reply_with_the_checkpointed_text(
    durable_case: StoreCase,
) -> None:
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, durable_case.url], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None
    acknowledged = [writer.stdout.readline().strip() for _ in range(20)]
    assert acknowledged == [str(n) for n in range(20)], "the writer stopped on its own"
    os.kill(writer.pid, signal.SIGKILL)
    writer.communicate(timeout=60)

    [event] = asyncio.run(stored_replies(durable_case.url, "streamed"))

    assert event.metadata["incomplete"] is True
    text = event.message["content"]
    assert text.startswith("".join(f"w{n} " for n in range(20)))
    written = text.split()
    assert written == [f"w{n}" for n in range(len(written))]  # whole deltas, in order


async def test_a_redacting_store_redacts_every_version_of_a_streamed_reply(
    durable_case: StoreCase,
) -> None:
    clock = FakeClock()
    sm = SessionManager(store=durable_case.open(redact=redact_pii))
    async with sm.ai_stream(model="gpt-4o", checkpoint_ms=250, clock=clock) as reply:
        await reply.write("Write to ")
        clock.now = 1.0
        await reply.write("bob@example.com")  # the first checkpoint: a new event
        clock.now = 2.0
        await reply.write(" now")  # rewritten in place at this checkpoint
        [event] = await stored_replies(durable_case.url, sm.session_id)
        assert event.message["content"] == "Write to [REDACTED:email] now"
        await reply.write(", or alice@example.org")

    [event] = await stored_replies(durable_case.url, sm.session_id)
    text = "Write to [REDACTED:email] now, or [REDACTED:email]"
    assert event.message["content"] == text
    assert event.metadata["redacted"] == {"email": 2}
    assert "example" not in json.dumps(event.model_dump(mode="json"))
