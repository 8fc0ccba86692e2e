"""The indexes a manager keeps between prompts (system prompts, compaction summaries, cut
replies) read only what was added, and start over when the events are not the ones they saw."""

from __future__ import annotations

import pytest

from llm_sessions import Compaction, SessionManager
from llm_sessions.models import SessionEvent
from llm_sessions.prompting._appended_index import AppendedIndex
from llm_sessions.prompting._incomplete import CUT_OFF_NOTE


def _marked(event: SessionEvent) -> bool:
    return event.metadata.get("mark") is True


def _events(*marks: bool) -> list[SessionEvent]:
    return [SessionEvent(message=f"e{n}", metadata={"mark": mark}) for n, mark in enumerate(marks)]


def test_only_the_events_added_since_the_last_look_are_read() -> None:
    events = _events(False, True, False)
    seen: list[str] = []
    index = AppendedIndex(lambda event: seen.append(event.message) or _marked(event))
    assert index.positions(events) == [1]
    events += _events(True)
    assert index.positions(events) == [1, 3]
    assert seen == ["e0", "e1", "e2", "e0"]  # the new event only (it is called e0 too)


def test_other_or_shortened_events_are_read_again_from_the_start() -> None:
    index = AppendedIndex(_marked)
    first = _events(True, False, True)
    assert index.positions(first) == [0, 2]
    assert index.positions(first[:2]) == [0]  # shorter: an event was removed
    other = _events(False, False, True)
    assert index.positions(other) == [2]  # the last event seen is not where it was


class _Cut(Exception):
    pass


async def test_a_cut_reply_and_a_compaction_after_the_first_prompts_are_seen() -> None:
    policy = Compaction(summarize_at_tokens=2000, keep_recent_tokens=10)
    async with SessionManager(
        store="memory://", system_prompt="Be brief.", compaction=policy
    ) as sm:
        for n in range(3):
            await sm.user_says(f"question {n}")
            await sm.ai_responds(f"answer {n}", model="gpt-4o")
        first = await sm.get_messages_for_llm()
        assert CUT_OFF_NOTE not in str(first)

        await sm.user_says("one more")
        with pytest.raises(_Cut):
            async with sm.ai_stream(model="gpt-4o", checkpoint_ms=0) as reply:
                await reply.write("half a rep")
                raise _Cut
        cut = await sm.get_messages_for_llm()
        assert cut[-1]["content"] == f"half a rep\n{CUT_OFF_NOTE}"
        assert all(
            m.get("content") != "half a rep"
            for m in await sm.get_messages_for_llm(incomplete="drop")
        )

        report = await sm.compact(force=True)
        assert report.event_id is not None
        compacted = await sm.get_messages_for_llm()
        assert len(compacted) < len(cut)
        assert compacted[0] == {"role": "system", "content": "Be brief."}
