"""Streamed replies: ``ai_stream`` and ``ai_responds_stream`` record one reply, complete on a
clean exit and marked incomplete when cut; the prompt includes or drops a cut reply."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from llm_sessions import SessionManager
from llm_sessions.exceptions import InvalidInputError, InvalidSessionOperation
from llm_sessions.models import CountMethod, SessionEvent
from llm_sessions.prompting._incomplete import CUT_OFF_NOTE


class FakeClock:
    """Seconds that move only when a test moves them."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def replies(sm: SessionManager) -> list[SessionEvent[Any]]:
    session = await sm.get_session()
    return [event for event in session.events if event.metadata.get("model") == "gpt-4o"]


async def test_a_clean_stream_records_one_complete_reply_with_the_reported_usage() -> None:
    sm = SessionManager()
    await sm.user_says("Tell me a story")
    async with sm.ai_stream(model="gpt-4o") as reply:
        for delta in ["Once ", "upon ", "a time."]:
            await reply.write(delta)
        reply.set_usage({"prompt_tokens": 12, "completion_tokens": 4})

    [event] = await replies(sm)
    assert event.message == {"role": "assistant", "content": "Once upon a time."}
    assert "incomplete" not in event.metadata
    assert event.token_usage is not None
    assert (event.token_usage.prompt_tokens, event.token_usage.completion_tokens) == (12, 4)
    assert event.token_usage.count_method == CountMethod.REPORTED


async def test_without_reported_usage_the_reply_tokens_are_counted() -> None:
    sm = SessionManager()
    async with sm.ai_stream(model="gpt-4o") as reply:
        await reply.write("Hello there, how are you?")

    [event] = await replies(sm)
    assert event.token_usage is not None and event.token_usage.completion_tokens > 0


async def test_an_exception_leaves_the_reply_incomplete_with_the_text_so_far() -> None:
    sm = SessionManager()
    clock = FakeClock()
    with pytest.raises(RuntimeError, match="connection lost"):
        async with sm.ai_stream(model="gpt-4o", clock=clock) as reply:
            await reply.write("Half ")
            await reply.write("a reply")  # not yet checkpointed: written when the stream is cut
            raise RuntimeError("connection lost")

    [event] = await replies(sm)
    assert event.metadata["incomplete"] is True
    assert event.metadata["cut_by"] == "RuntimeError"
    assert event.message["content"] == "Half a reply"
    assert event.token_usage is not None and event.token_usage.completion_tokens > 0


async def test_cancellation_leaves_the_reply_incomplete() -> None:
    sm = SessionManager()
    started = asyncio.Event()

    async def stream() -> None:
        async with sm.ai_stream(model="gpt-4o") as reply:
            await reply.write("Partial")
            started.set()
            await asyncio.Event().wait()  # the model is slow; the client goes away

    task = asyncio.create_task(stream())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    [event] = await replies(sm)
    assert event.metadata["incomplete"] is True
    assert event.metadata["cut_by"] == "CancelledError"
    assert event.message["content"] == "Partial"


async def cut_conversation() -> SessionManager:
    sm = SessionManager()
    await sm.user_says("Question one")
    with pytest.raises(RuntimeError):
        async with sm.ai_stream(model="gpt-4o") as reply:
            await reply.write("The answer is")
            raise RuntimeError("cut")
    await sm.user_says("Question two")
    return sm


async def test_the_prompt_includes_a_cut_reply_marked_as_cut_off_by_default() -> None:
    sm = await cut_conversation()

    messages = await sm.get_messages_for_llm()

    assert messages == [
        {"role": "user", "content": "Question one"},
        {"role": "assistant", "content": f"The answer is\n{CUT_OFF_NOTE}"},
        {"role": "user", "content": "Question two"},
    ]
    [event] = await replies(sm)
    assert event.message["content"] == "The answer is"  # the stored event is unchanged


async def test_the_prompt_can_drop_a_cut_reply() -> None:
    sm = await cut_conversation()

    messages = await sm.get_messages_for_llm(incomplete="drop")

    assert [m["content"] for m in messages] == ["Question one", "Question two"]


async def test_a_bad_incomplete_mode_is_refused_naming_it() -> None:
    sm = await cut_conversation()
    with pytest.raises(InvalidInputError, match=r"incomplete.*'keep'.*include.*drop"):
        await sm.get_messages_for_llm(incomplete="keep")


async def test_a_non_text_delta_is_refused_and_the_reply_keeps_its_text() -> None:
    sm = SessionManager()
    async with sm.ai_stream(model="gpt-4o") as reply:
        await reply.write("Fine")
        with pytest.raises(InvalidInputError, match=r"delta.*42.*must be text"):
            await reply.write(42)  # type: ignore[arg-type]
        await reply.write(" so far")

    [event] = await replies(sm)
    assert event.message["content"] == "Fine so far"
    assert "incomplete" not in event.metadata


async def test_a_write_after_close_is_refused_and_the_reply_stays_as_it_was() -> None:
    sm = SessionManager()
    async with sm.ai_stream(model="gpt-4o") as reply:
        await reply.write("Done.")
    with pytest.raises(InvalidSessionOperation, match=r"write to the reply.*closed"):
        await reply.write(" More")

    [event] = await replies(sm)
    assert event.message["content"] == "Done."


async def test_a_second_concurrent_stream_is_refused_and_records_nothing() -> None:
    sm = SessionManager()
    await sm.user_says("Hi")
    before = [e.id for e in (await sm.get_session()).events]
    async with sm.ai_stream(model="gpt-4o") as first:
        with pytest.raises(InvalidSessionOperation, match=r"second reply stream.*already"):
            async with sm.ai_stream(model="gpt-4o"):
                pass
        assert [e.id for e in (await sm.get_session()).events] == before
        await first.write("One reply")

    assert [e.message["content"] for e in await replies(sm)] == ["One reply"]
    async with sm.ai_stream(model="gpt-4o") as again:  # the first one's end frees the manager
        await again.write("Another")
    assert len(await replies(sm)) == 2


async def test_a_stream_cut_before_any_text_records_nothing() -> None:
    sm = SessionManager()
    await sm.user_says("Hi")
    with pytest.raises(RuntimeError):
        async with sm.ai_stream(model="gpt-4o"):
            raise RuntimeError("no text yet")
    assert await replies(sm) == []


async def test_a_bad_checkpoint_interval_is_refused_naming_it() -> None:
    sm = SessionManager()
    with pytest.raises(InvalidInputError, match=r"checkpoint_ms.*-1.*>= 0"):
        sm.ai_stream(model="gpt-4o", checkpoint_ms=-1)


async def test_tool_used_after_a_streamed_reply_answers_it() -> None:
    sm = SessionManager()
    async with sm.ai_stream(model="gpt-4o") as reply:
        await reply.write("Let me check.")
    await sm.tool_used("lookup", {"q": "x"}, "found")

    [event] = await replies(sm)
    tool = (await sm.get_session()).events[-1]
    assert tool.parent_event_id == event.id
