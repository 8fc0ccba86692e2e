"""The seeds' examples, renamed to ``llm_sessions`` and in their async form, do what they say.

Each test is the example's code (store setup included) followed by assertions on what its text
promises. Examples that need the prompt builder, the tool processor, files or Redis live with
the tests of those modules.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from llm_sessions import SessionManager
from llm_sessions.infinite_conversation import (
    InfiniteConversationManager,
    SummarizationStrategy,
)
from llm_sessions.models.event_source import EventSource
from llm_sessions.models.event_type import EventType
from llm_sessions.models.session import Session
from llm_sessions.models.session_event import SessionEvent
from llm_sessions.models.session_run import RunStatus, SessionRun
from llm_sessions.storage import InMemorySessionStore, SessionStoreProvider
from llm_sessions.tokens import count_text

MONEY = re.compile(r"^\$\d+\.\d{6}$")

# -- seed 000 (chuk-session-manager) --------------------------------------------------------


async def test_seed000_quick_start() -> None:
    # Configure storage
    store = InMemorySessionStore()
    SessionStoreProvider.set_store(store)
    # Create a session
    session = await Session.create()
    # Add an event
    await session.add_event(
        SessionEvent(message="Hello, this is a user message.", source=EventSource.USER)
    )
    # Save session
    await store.save(session)
    # Retrieve session
    retrieved_session = await store.get(session.id)
    # Work with hierarchical sessions
    child = await Session.create(parent_id=session.id)
    ancestors = await child.ancestors()

    assert retrieved_session is not None
    assert retrieved_session.id == session.id
    assert [e.message for e in retrieved_session.events] == ["Hello, this is a user message."]
    assert retrieved_session.events[0].source is EventSource.USER
    assert [a.id for a in ancestors] == [session.id]
    assert SessionStoreProvider.get_store() is store
    assert (await store.get(session.id)).child_ids == [child.id]  # type: ignore[union-attr]


async def test_seed000_in_memory_storage() -> None:
    store = InMemorySessionStore()
    SessionStoreProvider.set_store(store)
    session = await Session.create()
    await store.save(session)
    all_sessions = await store.list_sessions()

    assert all_sessions == [session.id]


async def test_seed000_token_usage_tracking() -> None:
    store = InMemorySessionStore()
    SessionStoreProvider.set_store(store)
    session = await Session.create()
    # Add user message (no token tracking needed)
    user_message = "Explain quantum computing in simple terms"
    await session.add_event(SessionEvent(message=user_message, source=EventSource.USER))
    # Assistant response with token tracking
    assistant_response = (
        "Quantum computing uses qubits that can be both 0 and 1 simultaneously, "
        "unlike classical bits."
    )
    assistant_event = await SessionEvent.create_with_tokens(
        message=assistant_response,
        prompt=user_message,
        completion=assistant_response,
        model="gpt-4",
        source=EventSource.LLM,
    )
    await session.add_event(assistant_event)
    await store.save(session)

    usage = assistant_event.token_usage
    assert usage is not None
    assert usage.prompt_tokens == count_text(user_message, "gpt-4").tokens > 0
    assert usage.completion_tokens == count_text(assistant_response, "gpt-4").tokens > 0
    assert session.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert session.total_cost > 0
    assert MONEY.match(f"${session.total_cost:.6f}")
    assert f"Total tokens: {session.total_tokens}" == f"Total tokens: {usage.total_tokens}"


async def test_seed000_hierarchical_sessions() -> None:
    store = InMemorySessionStore()
    SessionStoreProvider.set_store(store)
    parent = await Session.create()
    child1 = await Session.create(parent_id=parent.id)
    child2 = await Session.create(parent_id=parent.id)
    grandchild = await Session.create(parent_id=child1.id)
    ancestors = await grandchild.ancestors()
    descendants = await parent.descendants()

    assert [a.id for a in ancestors] == [child1.id, parent.id]
    assert sorted(d.id for d in descendants) == sorted([child1.id, child2.id, grandchild.id])
    assert len(descendants) == 3


async def test_seed000_session_runs() -> None:
    store = InMemorySessionStore()
    SessionStoreProvider.set_store(store)
    session = await Session.create()
    # Start a run
    run = SessionRun()
    await run.mark_running()
    session.runs.append(run)
    assert session.active_run is run
    # Add events to the run
    await session.add_event(
        SessionEvent(
            message="Processing your request...", source=EventSource.SYSTEM, task_id=run.id
        )
    )
    # Complete the run
    await run.mark_completed()
    await store.save(session)
    active_run = session.active_run

    assert active_run is None
    assert f"Active run: {active_run.id if active_run else 'None'}" == "Active run: None"
    saved = await store.get(session.id)
    assert saved is not None
    assert saved.runs[0].status is RunStatus.COMPLETED
    assert saved.events[0].task_id == run.id


async def test_seed000_web_framework_startup_store_is_seen_by_requests() -> None:
    # The FastAPI example: a store set in the startup hook serves every request handler.
    async def startup() -> None:
        SessionStoreProvider.set_store(InMemorySessionStore())

    async def create_session() -> dict[str, str]:
        session = await Session.create()
        return {"id": session.id}

    async def get_session(session_id: str) -> dict[str, Any]:
        store = SessionStoreProvider.get_store()
        session = await store.get(session_id)
        assert session is not None, "Session not found"
        return {
            "id": session.id,
            "events_count": len(session.events),
            "runs_count": len(session.runs),
            "child_ids": session.child_ids,
        }

    await startup()
    created = await create_session()
    assert await get_session(created["id"]) == {
        "id": created["id"],
        "events_count": 0,
        "runs_count": 0,
        "child_ids": [],
    }


# -- seed 001 (chuk-ai-session-manager) -----------------------------------------------------


async def test_seed001_basic_session_with_events() -> None:
    store = InMemorySessionStore()
    SessionStoreProvider.set_store(store)
    session = await Session.create()
    question = "How do I calculate the area of a circle?"
    answer = "The area of a circle is calculated using the formula: A = πr²"
    await session.add_event_and_save(
        await SessionEvent.create_with_tokens(
            message=question, prompt=question, model="gpt-4o-mini", source=EventSource.USER
        )
    )
    await session.add_event_and_save(
        await SessionEvent.create_with_tokens(
            message=answer,
            prompt=question,
            completion=answer,
            model="gpt-4o-mini",
            source=EventSource.LLM,
        )
    )

    assert len(session.events) == 2
    question_tokens = count_text(question, "gpt-4o-mini").tokens
    answer_tokens = count_text(answer, "gpt-4o-mini").tokens
    assert session.total_tokens == 2 * question_tokens + answer_tokens
    assert session.total_cost > 0
    assert MONEY.match(f"${session.total_cost:.6f}")
    saved = await store.get(session.id)
    assert saved is not None and [e.message for e in saved.events] == [question, answer]


async def test_seed001_hierarchical_sessions() -> None:
    parent = await Session.create()
    child1 = await Session.create(parent_id=parent.id)
    child2 = await Session.create(parent_id=parent.id)
    ancestors = await child1.ancestors()
    descendants = await parent.descendants()

    assert [a.id for a in ancestors] == [parent.id]
    assert [d.id for d in descendants] == [child1.id, child2.id]


async def test_seed001_token_and_cost_tracking() -> None:
    session = await Session.create()
    event = await SessionEvent.create_with_tokens(
        message="Explain quantum computing in simple terms",
        prompt="Explain quantum computing in simple terms",
        completion="Quantum computing uses qubits that can be both 0 and 1...",
        model="gpt-4",
        source=EventSource.LLM,
    )
    await session.add_event_and_save(event)
    cheap = await SessionEvent.create_with_tokens(
        message="and in one line?", prompt="and in one line?", model="gpt-4o-mini"
    )
    await session.add_event_and_save(cheap)

    lines = [f"Total tokens: {session.total_tokens}", f"Estimated cost: ${session.total_cost:.6f}"]
    # Per-model breakdown
    for model, usage in session.token_summary.usage_by_model.items():
        lines.append(f"{model}: {usage.total_tokens} tokens (${usage.estimated_cost_usd:.6f})")
    # Usage by source (user, llm, system)
    usage_by_source = await session.get_token_usage_by_source()

    by_model = session.token_summary.usage_by_model
    assert set(by_model) == {"gpt-4", "gpt-4o-mini"}
    assert sum(u.total_tokens for u in by_model.values()) == session.total_tokens > 0
    assert sum(u.estimated_cost_usd or 0 for u in by_model.values()) == pytest.approx(
        session.total_cost
    )
    assert by_model["gpt-4"].estimated_cost_usd > by_model["gpt-4o-mini"].estimated_cost_usd  # type: ignore[operator]
    assert all(MONEY.match(line.split("(")[-1].rstrip(")")) for line in lines[2:])
    assert list(usage_by_source) == ["llm"]
    assert usage_by_source["llm"].total_tokens == session.total_tokens


async def test_seed001_session_runs_for_workflows() -> None:
    session = await Session.create()
    run = await SessionRun.create(metadata={"task": "data_analysis"})
    await run.mark_running()
    session.runs.append(run)
    await session.add_event_and_save(
        SessionEvent(message="Processing dataset...", source=EventSource.SYSTEM, task_id=run.id)
    )
    await run.mark_completed()

    assert run.status is RunStatus.COMPLETED
    assert await run.get_metadata("task") == "data_analysis"
    assert [e.task_id for e in session.events] == [run.id]
    duration = await run.get_duration()
    assert duration is not None and duration >= 0


async def test_seed001_infinite_conversations() -> None:
    session = await Session.create()
    requests: list[list[dict[str, str]]] = []

    async def llm_callback(messages: list[dict[str, str]], model: str) -> str:
        requests.append(messages)
        return "- the user is planning a trip to Kyoto"

    manager = InfiniteConversationManager(
        token_threshold=3000, summarization_strategy=SummarizationStrategy.KEY_POINTS
    )
    session_id = session.id
    new_session_id = session_id
    for turn in range(3):
        new_session_id = await manager.process_message(
            new_session_id, f"Question {turn} about Kyoto?", EventSource.USER, llm_callback
        )
        new_session_id = await manager.process_message(
            new_session_id, f"Answer {turn}.", EventSource.LLM, llm_callback
        )
    history = await manager.get_full_conversation_history(new_session_id)

    assert new_session_id == session_id  # far below the threshold: one segment
    assert requests == []
    assert [content for _, _, content in history] == [
        text for turn in range(3) for text in (f"Question {turn} about Kyoto?", f"Answer {turn}.")
    ]


# -- seed 003 (the unified SessionManager) --------------------------------------------------


async def test_seed003_session_manager() -> None:
    sm = SessionManager()
    await sm.user_says("Hello!")
    await sm.ai_responds("Hi there!", model="gpt-4")

    conversation = await sm.get_conversation()
    assert [(t["role"], t["content"]) for t in conversation] == [
        ("user", "Hello!"),
        ("assistant", "Hi there!"),
    ]
    stats = await sm.get_stats()
    assert (stats["user_messages"], stats["ai_messages"]) == (1, 1)
    assert stats["total_tokens"] > 0 and stats["estimated_cost"] > 0
    assert sm.is_infinite is False


async def test_seed003_infinite_session_manager() -> None:
    sm = SessionManager(infinite_context=True)
    await sm.user_says("Hello!")
    await sm.ai_responds("Hi there!", model="gpt-4")

    assert sm.is_infinite is True
    stats = await sm.get_stats()
    assert stats["infinite_context"] is True
    assert stats["session_segments"] == 1
    assert stats["session_chain"] == [sm.session_id]
    assert (stats["user_messages"], stats["ai_messages"]) == (1, 1)
    assert await sm.get_session_chain() == [sm.session_id]


async def test_seed003_events_have_the_seed_shape() -> None:
    sm = SessionManager()
    await sm.user_says("Hello!")
    await sm.ai_responds("Hi there!", model="gpt-4", provider="openai")
    session = await SessionStoreProvider.get_store().get(sm.session_id)
    assert session is not None
    user, reply = session.events
    assert (user.source, user.type) == (EventSource.USER, EventType.MESSAGE)
    assert (reply.source, reply.type) == (EventSource.LLM, EventType.MESSAGE)
    assert reply.metadata["model"] == "gpt-4" and reply.metadata["provider"] == "openai"
