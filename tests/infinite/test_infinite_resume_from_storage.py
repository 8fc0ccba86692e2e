"""A long segmented conversation on SQLite, resumed from storage alone in fresh processes."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from llm_sessions import SessionManager
from llm_sessions.infinite_conversation import InfiniteConversationManager
from llm_sessions.models import EventSource, EventType
from llm_sessions.storage import open_store

TURNS = 45


async def summarise(messages: list[dict[str, Any]], model: str) -> str:
    return f"summary covering {messages[-1]['content'].count(chr(10))} lines"


def _run_in_new_process(script: str, db: Path) -> Any:
    """Run ``script`` in a new interpreter (nothing shared but the database file)."""
    code = textwrap.dedent(script).replace("DB_URL", f"sqlite:///{db}")
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
async def recorded(tmp_path: Path) -> tuple[Path, list[str], list[str]]:
    """45 turns with a tool call each, segmented every 10 turns; returns (db, chain, texts)."""
    db = tmp_path / "conversation.db"
    store = open_store(f"sqlite:///{db}")
    manager = SessionManager(
        infinite_context=True, max_turns_per_segment=10, store=store, summarizer=summarise
    )
    texts: list[str] = []
    for turn in range(TURNS):
        question, answer = f"question {turn}", f"answer {turn}"
        await manager.user_says(question)
        await manager.ai_responds(answer, model="gpt-4o-mini")
        await manager.tool_used("lookup", {"turn": turn}, {"found": turn})
        texts += [question, answer]
    chain = await manager.get_session_chain()
    await store.close()
    return db, chain, texts


async def test_the_chain_is_stored_as_linked_segments(
    recorded: tuple[Path, list[str], list[str]],
) -> None:
    db, chain, _ = recorded
    assert len(chain) == 5  # 45 turns, 10 per segment
    store = open_store(f"sqlite:///{db}")
    segments = [await store.get(sid) for sid in chain]
    await store.close()
    for previous, segment in itertools.pairwise(segments):
        assert segment is not None and previous is not None
        assert segment.parent_id == previous.id
        assert segment.id in previous.child_ids
        first = segment.events[0]
        assert first.type is EventType.SUMMARY and first.source is EventSource.SYSTEM
        assert first.message.startswith("summary covering")


@pytest.mark.parametrize("start", [0, 2, 4], ids=["root", "middle", "newest"])
def test_a_fresh_process_sees_the_whole_conversation_from_any_segment(
    recorded: tuple[Path, list[str], list[str]], start: int
) -> None:
    db, chain, texts = recorded
    seen = _run_in_new_process(
        f"""
        import asyncio, json
        from llm_sessions import SessionManager
        from llm_sessions.storage import open_store

        async def main():
            store = open_store("DB_URL")
            manager = SessionManager({chain[start]!r}, infinite_context=True, store=store)
            conversation = await manager.get_conversation()
            stats = await manager.get_stats()
            messages = await manager.get_messages_for_llm()
            await store.close()
            print(json.dumps({{
                "chain": stats["session_chain"],
                "current": manager.session_id,
                "texts": [turn["content"] for turn in conversation],
                "stats": stats,
                "first_message": messages[0],
            }}))

        asyncio.run(main())
        """,
        db,
    )
    assert seen["chain"] == chain
    assert seen["current"] == chain[-1]  # continues at the newest segment
    assert seen["texts"] == texts
    stats = seen["stats"]
    assert stats["session_segments"] == 5
    assert stats["user_messages"] == TURNS and stats["ai_messages"] == TURNS
    assert stats["tool_calls"] == TURNS
    assert seen["first_message"]["role"] == "system"
    assert "summary covering" in seen["first_message"]["content"]


def test_a_fresh_process_continues_the_conversation_in_the_newest_segment(
    recorded: tuple[Path, list[str], list[str]],
) -> None:
    db, chain, texts = recorded
    _run_in_new_process(
        f"""
        import asyncio, json
        from llm_sessions import SessionManager
        from llm_sessions.storage import open_store

        async def main():
            store = open_store("DB_URL")
            manager = SessionManager({chain[1]!r}, infinite_context=True, store=store)
            await manager.user_says("one more question")
            await store.close()
            print(json.dumps(manager.session_id))

        asyncio.run(main())
        """,
        db,
    )
    history = _run_in_new_process(
        f"""
        import asyncio, json
        from llm_sessions.infinite_conversation import InfiniteConversationManager
        from llm_sessions.storage import open_store

        async def main():
            store = open_store("DB_URL")
            manager = InfiniteConversationManager(store=store)
            history = await manager.get_full_conversation_history({chain[0]!r})
            segments = await manager.get_session_chain({chain[0]!r})
            await store.close()
            where = [s.id for s in segments for e in s.events if e.type.value == "message"]
            print(json.dumps([(m[2], at) for m, at in zip(history, where, strict=True)]))

        asyncio.run(main())
        """,
        db,
    )
    assert [text for text, _ in history] == [*texts, "one more question"]
    assert history[-1][1] == chain[-1]


async def test_infinite_manager_resumes_from_a_new_store_object(
    recorded: tuple[Path, list[str], list[str]],
) -> None:
    db, chain, texts = recorded
    store = open_store(f"sqlite:///{db}")
    manager = InfiniteConversationManager(store=store)
    assert [s.id for s in await manager.get_session_chain(chain[3])] == chain
    history = await manager.get_full_conversation_history(chain[3])
    assert [content for _, _, content in history] == texts
    context = await manager.build_context_for_llm(chain[0], max_messages=4)
    assert context[0]["role"] == "system" and "summary covering" in context[0]["content"]
    assert [m["content"] for m in context[1:]] == texts[-4:]
    await store.close()
