"""Export, import and copy on every store: exact round trips (infinite chains, runs, tool events),
conflicts, all-or-nothing imports, and resumable copies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from llm_sessions import SessionManager
from llm_sessions.exceptions import InvalidInputError, SessionAlreadyExists
from llm_sessions.interop import export_session, import_session
from llm_sessions.interop.copy import copy_sessions
from llm_sessions.models import EventSource, EventType
from llm_sessions.models.session import Session
from llm_sessions.models.session_event import SessionEvent
from llm_sessions.models.session_run import SessionRun
from llm_sessions.storage import SessionStore, open_store

if TYPE_CHECKING:
    from store_cases import StoreCase

MODEL = "gpt-4o-mini"


async def _rich_session(store: SessionStore, session_id: str = "rich") -> Session[Any]:
    """A session with a run, state, properties, a reply with a tool call and its tool event."""
    session: Session[Any] = await Session.create(store=store, id=session_id)
    run = await SessionRun.create(metadata={"purpose": "weather"})
    await run.mark_running()
    session.runs.append(run)
    await session.set_state("step", {"n": 2, "tags": ["a", "é"]})
    session.metadata.properties["owner"] = "alice"
    user = await SessionEvent.create_with_tokens(
        "Weather in Paris?", "Weather in Paris?", model=MODEL, source=EventSource.USER
    )
    reply = await SessionEvent.create_with_tokens(
        {"role": "assistant", "content": None, "tool_calls": []},
        None,
        "checking",
        model=MODEL,
        task_id=run.id,
    )
    tool = await SessionEvent.create_with_tokens(
        {"tool": "weather", "arguments": {"city": "Paris"}, "result": {"c": 21}, "error": None},
        "21",
        model=MODEL,
        source=EventSource.SYSTEM,
        type=EventType.TOOL_CALL,
        parent_event_id=reply.id,
        metadata={"attempt": 1},
    )
    for event in (user, reply, tool):
        await session.add_event_and_save(event)
    await run.mark_completed()
    await store.save(session)
    return session


def _dumps(sessions: list[Session[Any]]) -> list[dict[str, Any]]:
    return [session.model_dump(mode="json") for session in sessions]


async def test_a_session_round_trips_exactly_through_jsonl(store_case: StoreCase) -> None:
    source = open_store("memory://")
    original = await _rich_session(source)
    text = await export_session(source, original.id)

    target = store_case.open()
    assert await import_session(target, text) == [original.id]
    loaded = await store_case.reader(target).get(original.id)
    assert loaded is not None
    assert _dumps([loaded]) == _dumps([original])
    assert loaded.events[2].parent_event_id == original.events[1].id
    assert await export_session(store_case.reader(target), original.id) == text


async def _summarize(messages: list[dict[str, Any]], model: str) -> str:
    return "summary of the conversation so far"


async def _conversation(store: SessionStore, turns: int = 5) -> list[str]:
    manager = SessionManager(infinite_context=True, max_turns_per_segment=2, store=store)
    for turn in range(turns):
        await manager.user_says(f"question {turn}")
        await manager.ai_responds(f"answer {turn}", model=MODEL)
    return await manager.get_session_chain()


async def test_an_infinite_conversation_exports_and_imports_as_one_unit(
    store_case: StoreCase,
) -> None:
    source = open_store("memory://")
    chain = await _conversation(source)
    assert len(chain) == 3
    originals = [await source.get(segment_id) for segment_id in chain]
    text = await export_session(source, chain[1])  # any segment exports them all
    assert text.count('"record":"session"') == 3

    target = store_case.open()
    assert await import_session(target, text) == chain
    reader = store_case.reader(target)
    loaded = [await reader.get(segment_id) for segment_id in chain]
    assert _dumps(loaded) == _dumps(originals)  # type: ignore[arg-type]
    resumed = SessionManager(chain[0], infinite_context=True, store=reader)
    assert len(await resumed.get_conversation()) == 10
    assert await resumed.get_session_chain() == chain


async def test_an_existing_id_is_refused_unless_replaced_or_renamed(
    store_case: StoreCase,
) -> None:
    source = open_store("memory://")
    chain = await _conversation(source, turns=3)
    text = await export_session(source, chain[0])
    target = store_case.open()
    await import_session(target, text)
    before = await export_session(target, chain[0])

    with pytest.raises(SessionAlreadyExists, match=chain[0]):
        await import_session(target, text)
    assert await export_session(store_case.reader(target), chain[0]) == before

    assert await import_session(target, text, on_conflict="replace") == chain
    assert sorted(await store_case.reader(target).list_sessions()) == sorted(chain)

    renamed = await import_session(target, text, on_conflict="rename")
    assert set(renamed).isdisjoint(chain) and len(renamed) == 2
    reader = store_case.reader(target)
    copy = SessionManager(renamed[0], infinite_context=True, store=reader)
    assert await copy.get_session_chain() == renamed
    second = await reader.get(renamed[1])
    assert second is not None and second.parent_id == renamed[0]

    with pytest.raises(InvalidInputError, match="on_conflict"):
        await import_session(target, text, on_conflict="merge")


async def test_an_import_that_fails_midway_stores_nothing(durable_case: StoreCase) -> None:
    source = open_store("memory://")
    first: Session[Any] = await Session.create(store=source, id="small")
    await first.add_event_and_save(SessionEvent(message="short", source=EventSource.USER))
    second: Session[Any] = await Session.create(store=source, id="large")
    await second.add_event_and_save(SessionEvent(message="x" * 5000, source=EventSource.USER))
    text = await export_session(source, "small") + await export_session(source, "large")

    target = durable_case.open(max_event_bytes=1000)
    with pytest.raises(InvalidInputError, match="1,000 bytes"):
        await import_session(target, text)
    assert await durable_case.open().list_sessions() == []


async def test_copy_is_resumable_and_counts_what_it_did(
    store_case: StoreCase, tmp_path: Any
) -> None:
    source = open_store(f"sqlite:///{tmp_path / 'source.db'}")
    chain = await _conversation(source)
    await _rich_session(source)
    target = store_case.open()

    first = await copy_sessions(source, target)
    assert (first.copied, first.skipped, first.failed) == (4, 0, 0)
    reader = store_case.reader(target)
    for session_id in [*chain, "rich"]:
        assert await export_session(reader, session_id) == await export_session(source, session_id)

    again = await copy_sessions(source, target)
    assert (again.copied, again.skipped, again.failed, again.events) == (0, 4, 0, 0)

    changed = await source.get("rich")
    assert changed is not None
    await changed.add_event_and_save(SessionEvent(message="later", source=EventSource.USER))
    conflict = await copy_sessions(source, target, prefix="rich")
    assert (conflict.copied, conflict.failed) == (0, 1)
    assert "different" in conflict.errors["rich"]
    replaced = await copy_sessions(source, target, prefix="rich", replace=True)
    assert (replaced.copied, replaced.events) == (1, 4)
    await source.close()
