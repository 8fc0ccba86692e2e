"""Prompts built from the end of a stored log (``build_prompt_from_store``) equal the prompts
built from a full load, on every store: tool calls with their results, opening system messages,
summaries, removed events and custom-type events included."""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llm_sessions.exceptions import InvalidInputError, SessionNotFound, TokenLimitExceeded
from llm_sessions.models import Session, SessionEvent
from llm_sessions.session_prompt_builder import (
    PromptStrategy,
    build_prompt_from_session,
    build_prompt_from_store,
    register_event_renderer,
    unregister_event_renderer,
)
from llm_sessions.storage import SessionStore, open_store

sys.path.insert(0, str(Path(__file__).parent.parent / "prompts"))

from prompt_factories import assistant, summary, system, tool, user

if TYPE_CHECKING:
    from store_cases import StoreCase

BUDGETS = (60, 400, 1_500, 6_000, 100_000)


@pytest.fixture(autouse=True)
def note_renderer() -> Iterator[None]:
    register_event_renderer("note", lambda event: {"role": "system", "content": event.message})
    yield
    unregister_event_renderer("note")


def random_events(rng: random.Random, count: int) -> list[SessionEvent[Any]]:
    """A session's worth of mixed events: turns, tool calls linked to their reply or loose,
    system messages, summaries and custom-type notes."""
    events: list[SessionEvent[Any]] = [system("You are terse."), summary("Earlier: greetings.")]
    last_reply: SessionEvent[Any] | None = None
    while len(events) < count:
        kind = rng.choice("uuaaattlsn")
        words = " ".join(rng.choice(("alpha", "beta", "gamma", "delta")) for _ in range(9))
        if kind == "u":
            events.append(user(f"{len(events)} {words}"))
        elif kind == "a":
            last_reply = assistant(f"{len(events)} {words}")
            events.append(last_reply)
        elif kind == "t":
            events.append(tool(last_reply, "search", {"hits": len(events)}))
        elif kind == "l":
            events.append(tool(None, "clock", f"{len(events)} o'clock"))
        elif kind == "s":
            events.append(system(f"note {len(events)}"))
        else:
            events.append(SessionEvent(message=f"note {len(events)}", type="note"))
    return events


async def stored_session(
    store: SessionStore, session_id: str, events: list[SessionEvent[Any]], removed: list[int]
) -> None:
    session: Session[Any] = Session(id=session_id)
    await store.save(session)
    for start in range(0, len(events), 100):
        for event in events[start : start + 100]:
            await session.add_event(event)
        await store.save(session)
    await session.remove_events([events[n].id for n in removed if n < len(events)])


async def both_prompts(
    writer: SessionStore, reader: SessionStore, session_id: str, budget: int, query: str | None
) -> tuple[Any, Any]:
    loaded = await reader.get(session_id)
    assert loaded is not None
    try:
        full = await build_prompt_from_session(
            loaded, PromptStrategy.CONVERSATION, budget, current_query=query
        )
    except TokenLimitExceeded as exc:
        full = type(exc)
    try:
        tail = await build_prompt_from_store(
            reader, session_id, PromptStrategy.CONVERSATION, budget, current_query=query
        )
    except TokenLimitExceeded as exc:
        tail = type(exc)
    return full, tail


@pytest.mark.parametrize("seed", [1, 2])
async def test_tail_prompts_equal_full_load_prompts(store_case: StoreCase, seed: int) -> None:
    rng = random.Random(seed)
    events = random_events(rng, 420)
    writer = store_case.open()
    removed = [*sorted(rng.sample(range(len(events)), 12)), len(events) - 1]
    await stored_session(writer, "tail", events, removed)
    reader = store_case.reader(writer)
    for budget in BUDGETS:
        for query in (None, "and now?"):
            full, tail = await both_prompts(writer, reader, "tail", budget, query)
            assert tail == full, (budget, query)
    assert (await both_prompts(writer, reader, "tail", 100_000, None))[1] != []


async def test_tail_prompt_of_a_missing_session_raises(store_case: StoreCase) -> None:
    with pytest.raises(SessionNotFound):
        await build_prompt_from_store(store_case.open(), "absent", max_tokens=500)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10_000),
    count=st.integers(0, 700),
    budget=st.integers(20, 12_000),
    removals=st.lists(st.integers(0, 700), max_size=6),
)
async def test_tail_prompts_equal_full_load_prompts_for_any_session(
    seed: int, count: int, budget: int, removals: list[int]
) -> None:
    store = open_store("memory://")
    events = random_events(random.Random(seed), count)
    await stored_session(store, "any", events, removals)
    full, tail = await both_prompts(store, store, "any", budget, None)
    assert tail == full


async def test_a_budgeted_prompt_reads_only_the_end_of_a_long_log(store_case: StoreCase) -> None:
    writer = store_case.open()
    events = [user(f"question {n}") if n % 2 else assistant(f"answer {n}") for n in range(1500)]
    await stored_session(writer, "long", events, [])
    reader = store_case.reader(writer)
    read: list[int] = []
    original = reader.read_events

    async def counted(session_id: str, **page: Any) -> list[SessionEvent[Any]] | None:
        found = await original(session_id, **page)
        read.append(len(found or []))
        return found

    reader.read_events = counted  # type: ignore[method-assign]
    prompt = await build_prompt_from_store(reader, "long", max_tokens=300)
    assert prompt[-2:] == [
        {"role": "assistant", "content": "answer 1498"},
        {"role": "user", "content": "question 1499"},
    ]
    assert 0 < sum(read) < 300


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"session_id": ""}, "session_id"),
        ({"strategy": "loudest"}, "strategy"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"model": " "}, "model"),
        ({"current_query": 7}, "current_query"),
    ],
)
async def test_tail_prompt_refuses_bad_arguments_naming_them(
    arguments: dict[str, Any], field: str
) -> None:
    store = open_store("memory://")
    await store.save(Session(id="kept", events=[user("hello")]))
    call: dict[str, Any] = {"session_id": "kept", "max_tokens": 100, **arguments}
    with pytest.raises(InvalidInputError) as raised:
        await build_prompt_from_store(store, **call)
    assert field in str(raised.value)
    kept = await store.get("kept")
    assert kept is not None
    assert [event.message for event in kept.events] == ["hello"]
