"""Staged compaction: old tool results as stubs, the oldest span summarised into an event."""

from __future__ import annotations

from typing import Any

import pytest
from prompt_factories import assert_tool_pairs_whole

from llm_sessions import Compaction, CompactionReport, EventType, SessionManager
from llm_sessions.exceptions import InvalidInputError, InvalidSessionOperation
from llm_sessions.prompting import is_compaction_event
from llm_sessions.storage import InMemorySessionStore

BIG = "lorem ipsum dolor " * 200


async def agent_turn(sm: SessionManager, turn: int, result: Any = BIG) -> None:
    """One user message, a reply calling a tool, its (large) result, and the final answer."""
    await sm.user_says(f"question {turn}")
    await sm.ai_responds(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": f"call_{turn}",
                    "type": "function",
                    "function": {"name": "search", "arguments": "{}"},
                }
            ],
        },
        model="gpt-4o-mini",
    )
    await sm.tool_used("search", {}, result, call_id=f"call_{turn}")
    await sm.ai_responds(f"answer {turn}", model="gpt-4o-mini")


class Recorder:
    """A summarizer that records what it was asked and answers with a fixed text."""

    def __init__(self, text: str = "the summary") -> None:
        self.text = text
        self.calls: list[list[dict[str, str]]] = []

    async def __call__(self, messages: list[dict[str, str]], model: str) -> str:
        self.calls.append(messages)
        return self.text


def summarizing_manager() -> tuple[SessionManager, Recorder]:
    summarizer = Recorder()
    policy = Compaction(summarize_at_tokens=3000, keep_recent_tokens=1500)
    sm = SessionManager(store=InMemorySessionStore(), compaction=policy, summarizer=summarizer)
    return sm, summarizer


def tool_messages(prompt: list[dict[str, Any]]) -> dict[str, str]:
    return {m["tool_call_id"]: m["content"] for m in prompt if m["role"] == "tool"}


async def test_stage_one_stubs_old_tool_results_and_keeps_the_event() -> None:
    store = InMemorySessionStore()
    # Two turns after turn 1, three after turn 0: only turn 0 is older than two turns.
    sm = SessionManager(store=store, compaction=Compaction(trim_tool_results_after_turns=1))
    for turn in range(4):
        await agent_turn(sm, turn)
    prompt = await sm.get_messages_for_llm()
    results = tool_messages(prompt)
    assert results["call_2"] == BIG and results["call_3"] == BIG
    for old in ("call_0", "call_1"):
        assert results[old].startswith("[tool result trimmed: search, call " + old)
        assert "tokens saved]" in results[old]
    assert_tool_pairs_whole(prompt)
    stored = [e for e in (await sm.get_session()).events if e.type is EventType.TOOL_CALL]
    assert all(e.message["result"] == BIG for e in stored)


async def test_stage_one_reports_the_tokens_saved() -> None:
    sm = SessionManager(
        store=InMemorySessionStore(), compaction=Compaction(trim_tool_results_after_turns=0)
    )
    for turn in range(3):
        await agent_turn(sm, turn)
    report = await sm.compact()
    assert report.trimmed_tool_results == 2
    assert report.tokens_saved > 2 * 500
    assert report.event_id is None
    stub = tool_messages(await sm.get_messages_for_llm())["call_0"]
    saved = int(stub.rsplit(", ", 1)[1].split()[0])
    assert 500 < saved < 1000


async def test_stage_two_summarises_the_oldest_span_once_over_the_threshold() -> None:
    sm, summarizer = summarizing_manager()
    for turn in range(6):
        await agent_turn(sm, turn)
    prompt = await sm.get_messages_for_llm()
    assert len(summarizer.calls) == 1
    assert prompt[0] == {"role": "system", "content": "the summary"}
    assert "question 0" in summarizer.calls[0][1]["content"]
    assert "question 0" not in str(prompt[1:]) and "answer 5" in str(prompt)
    assert_tool_pairs_whole(prompt)
    events = (await sm.get_session()).events
    [compaction] = [e for e in events if is_compaction_event(e)]
    named = set(compaction.metadata["compaction"]["event_ids"])
    assert {e.id for e in events[:4]} <= named  # the first turn, whole
    assert all(any(e.id == n for e in events) for n in named)  # still in the store
    # Under the threshold now: asking again records nothing more.
    await sm.get_messages_for_llm()
    assert len(summarizer.calls) == 1


async def test_a_second_compaction_folds_in_the_first_summary() -> None:
    sm, summarizer = summarizing_manager()
    for turn in range(12):
        await agent_turn(sm, turn)
        await sm.get_messages_for_llm()
    assert len(summarizer.calls) >= 2
    assert "the summary" in summarizer.calls[-1][1]["content"]
    prompt = await sm.get_messages_for_llm()
    assert [m["content"] for m in prompt if m["role"] == "system"] == ["the summary"]


async def test_a_failing_summarizer_reaches_the_caller_and_records_nothing() -> None:
    async def broken(messages: list[dict[str, str]], model: str) -> str:
        raise RuntimeError("summarizer down")

    policy = Compaction(summarize_at_tokens=2000, keep_recent_tokens=500)
    sm = SessionManager(store=InMemorySessionStore(), compaction=policy, summarizer=broken)
    for turn in range(4):
        await agent_turn(sm, turn)
    before = [e.id for e in (await sm.get_session()).events]
    with pytest.raises(RuntimeError, match="summarizer down"):
        await sm.get_messages_for_llm()
    with pytest.raises(RuntimeError, match="summarizer down"):
        await sm.compact()
    assert [e.id for e in (await sm.get_session()).events] == before


async def test_without_a_summarizer_the_summary_is_extractive() -> None:
    policy = Compaction(summarize_at_tokens=2000, keep_recent_tokens=500)
    sm = SessionManager(store=InMemorySessionStore(), compaction=policy)
    for turn in range(4):
        await agent_turn(sm, turn)
    report = await sm.compact()
    assert isinstance(report, CompactionReport) and report.event_id is not None
    assert report.tokens_after < report.tokens_before
    prompt = await sm.get_messages_for_llm()
    assert "question 0" in prompt[0]["content"]


async def test_force_summarises_below_the_threshold_and_the_system_prompt_stays() -> None:
    summarizer = Recorder()
    policy = Compaction(summarize_at_tokens=100_000, keep_recent_tokens=10)
    sm = SessionManager(
        store=InMemorySessionStore(),
        compaction=policy,
        summarizer=summarizer,
        system_prompt="be brief",
    )
    for turn in range(2):
        await agent_turn(sm, turn, result="short")
    assert (await sm.compact()).event_id is None
    report = await sm.compact(force=True)
    # The newest turn stays whole however small keep_recent_tokens is.
    assert report.summarized_events == 4 and report.kept_events == 4
    prompt = await sm.get_messages_for_llm()
    assert prompt[0] == {"role": "system", "content": "be brief"}
    assert prompt[1] == {"role": "system", "content": "the summary"}
    assert [m["content"] for m in prompt[2:] if m["role"] == "user"] == ["question 1"]


async def test_compaction_in_an_infinite_conversation() -> None:
    summarizer = Recorder()
    policy = Compaction(
        trim_tool_results_after_turns=None, summarize_at_tokens=2500, keep_recent_tokens=1000
    )
    sm = SessionManager(
        infinite_context=True,
        token_threshold=1_000_000,
        max_turns_per_segment=100,
        store=InMemorySessionStore(),
        compaction=policy,
        summarizer=summarizer,
    )
    for turn in range(5):
        await agent_turn(sm, turn)
    prompt = await sm.get_messages_for_llm()
    assert summarizer.calls and prompt[0]["content"] == "the summary"
    assert_tool_pairs_whole(prompt)


async def test_compact_needs_a_policy() -> None:
    sm = SessionManager(store=InMemorySessionStore())
    await sm.user_says("hi")
    with pytest.raises(InvalidSessionOperation, match="compaction"):
        await sm.compact()


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"trim_tool_results_after_turns": -1}, "trim_tool_results_after_turns"),
        ({"trim_tool_results_after_turns": True}, "trim_tool_results_after_turns"),
        ({"summarize_at_tokens": 0}, "summarize_at_tokens"),
        ({"keep_recent_tokens": -5}, "keep_recent_tokens"),
        ({"summarize_at_tokens": 100, "keep_recent_tokens": 100}, "keep_recent_tokens"),
    ],
)
def test_bad_policies_name_the_field(arguments: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        Compaction(**arguments)
    assert caught.value.field == field


def test_the_manager_refuses_a_policy_that_is_not_one() -> None:
    with pytest.raises(InvalidInputError, match="compaction"):
        SessionManager(compaction={"summarize_at_tokens": 10})  # type: ignore[arg-type]


async def test_a_message_written_while_the_summary_is_made_stays_in_the_prompt() -> None:
    store = InMemorySessionStore()
    policy = Compaction(summarize_at_tokens=2000, keep_recent_tokens=500)

    async def slow_summarizer(messages: list[dict[str, str]], model: str) -> str:
        # Another writer adds a message between the read and the compaction event.
        await SessionManager(sm.session_id, store=store).user_says("written meanwhile")
        return "the summary"

    sm = SessionManager(store=store, compaction=policy, summarizer=slow_summarizer)
    for turn in range(4):
        await agent_turn(sm, turn)
    report = await sm.compact()
    assert report.event_id is not None
    prompt = await sm.get_messages_for_llm()
    assert prompt[0]["content"] == "the summary"
    assert "written meanwhile" in [m["content"] for m in prompt if m["role"] == "user"]
    assert "question 0" not in str(prompt)
