"""HIERARCHICAL prompts and ``include_parent_context``: what a session inherits from its
parent sessions, read from the store."""

from __future__ import annotations

from typing import Any

import pytest
from prompt_factories import a, assistant, s, summary, u, user

from llm_sessions.models.session import Session
from llm_sessions.prompting.parents import EXCHANGE_CHARS
from llm_sessions.session_prompt_builder import PromptStrategy, build_prompt_from_session
from llm_sessions.storage import InMemorySessionStore
from llm_sessions.tokens import count_chat_messages

HIERARCHICAL = PromptStrategy.HIERARCHICAL
HEADER = "Context from parent sessions (oldest first):"

pytestmark = pytest.mark.usefixtures("memory_store")


async def child_of(parent: Session[Any], *events: Any) -> Session[Any]:
    child: Session[Any] = await Session.create(parent_id=parent.id)
    for event in events:
        await child.add_event_and_save(event)
    return child


async def test_parent_summary_comes_first_as_a_system_message() -> None:
    parent: Session[Any] = await Session.create()
    await parent.add_event_and_save(user("Plan Rome"))
    await parent.add_event_and_save(summary("The user plans a May trip to Rome."))
    child = await child_of(parent, user("Which hotels?"))
    prompt = await build_prompt_from_session(child, HIERARCHICAL, include_parent_context=True)
    assert prompt == [
        s(f"{HEADER}\n\nSummary of session {parent.id}:\nThe user plans a May trip to Rome."),
        u("Which hotels?"),
    ]


async def test_latest_summary_wins() -> None:
    parent: Session[Any] = await Session.create()
    await parent.add_event_and_save(summary("old summary"))
    await parent.add_event_and_save(summary("new summary"))
    child = await child_of(parent, user("q"))
    prompt = await build_prompt_from_session(child, HIERARCHICAL, include_parent_context=True)
    assert "new summary" in prompt[0]["content"] and "old summary" not in prompt[0]["content"]


async def test_parent_without_summary_gives_its_last_exchange_condensed() -> None:
    parent: Session[Any] = await Session.create()
    await parent.add_event_and_save(user("first"))
    await parent.add_event_and_save(assistant("reply one"))
    await parent.add_event_and_save(user("  Book   the\nhotel  "))
    await parent.add_event_and_save(assistant("word " * 400))
    child = await child_of(parent, user("q"))
    prompt = await build_prompt_from_session(child, HIERARCHICAL, include_parent_context=True)
    context = prompt[0]["content"]
    lines = context.split("\n")
    assert lines[:4] == [
        HEADER,
        "",
        f"Last exchange in session {parent.id}:",
        "User: Book the hotel",
    ]
    assert lines[4].startswith("Assistant: word word")
    assert len(lines[4]) == len("Assistant: ") + EXCHANGE_CHARS and lines[4].endswith("…")
    assert "reply one" not in context
    assert prompt[1:] == [u("q")]


async def test_ancestors_listed_oldest_first() -> None:
    root: Session[Any] = await Session.create()
    await root.add_event_and_save(summary("root summary"))
    middle = await child_of(root, summary("middle summary"))
    leaf = await child_of(middle, user("q"))
    prompt = await build_prompt_from_session(leaf, HIERARCHICAL, include_parent_context=True)
    content = prompt[0]["content"]
    assert content.index("root summary") < content.index("middle summary")
    assert (
        f"Summary of session {root.id}" in content and f"Summary of session {middle.id}" in content
    )


async def test_tight_budget_keeps_the_nearest_parent() -> None:
    root: Session[Any] = await Session.create()
    await root.add_event_and_save(summary("root " * 100))
    middle = await child_of(root, summary("middle summary"))
    leaf = await child_of(middle, user("q"))
    full = await build_prompt_from_session(leaf, HIERARCHICAL, include_parent_context=True)
    assert "root root" in full[0]["content"]
    budget = count_chat_messages(full, "gpt-4o-mini").tokens - 1
    prompt = await build_prompt_from_session(
        leaf, HIERARCHICAL, max_tokens=budget, include_parent_context=True
    )
    assert prompt == [
        s(f"{HEADER}\n\nSummary of session {middle.id}:\nmiddle summary"),
        u("q"),
    ]


async def test_without_include_parent_context_hierarchical_is_conversation() -> None:
    parent: Session[Any] = await Session.create()
    await parent.add_event_and_save(summary("parent summary"))
    child = await child_of(parent, user("q"), assistant("r"))
    prompt = await build_prompt_from_session(child, HIERARCHICAL)
    assert prompt == await build_prompt_from_session(child, PromptStrategy.CONVERSATION)
    assert prompt == [u("q"), a("r")]


async def test_parent_context_works_with_other_strategies() -> None:
    parent: Session[Any] = await Session.create()
    await parent.add_event_and_save(summary("parent summary"))
    child = await child_of(parent, user("task"), assistant("done"))
    prompt = await build_prompt_from_session(child, "minimal", include_parent_context=True)
    assert prompt[0]["role"] == "system" and "parent summary" in prompt[0]["content"]
    assert prompt[1:] == [u("task"), a(None)]  # MINIMAL leaves the reply's text out


async def test_a_segment_that_opens_with_its_parents_summary_gets_no_parent_context() -> None:
    parent: Session[Any] = await Session.create()
    await parent.add_event_and_save(user("earlier talk"))
    child = await child_of(parent, summary("rolling summary", summarizes=parent.id), user("q"))
    prompt = await build_prompt_from_session(child, HIERARCHICAL, include_parent_context=True)
    assert prompt == [s("rolling summary"), u("q")]


async def test_no_parent_or_empty_parents_add_nothing() -> None:
    lone: Session[Any] = await Session.create()
    await lone.add_event_and_save(user("q"))
    assert await build_prompt_from_session(lone, HIERARCHICAL, include_parent_context=True) == [
        u("q")
    ]
    parent: Session[Any] = await Session.create()
    child = await child_of(parent, user("q"))
    assert await build_prompt_from_session(child, HIERARCHICAL, include_parent_context=True) == [
        u("q")
    ]


async def test_parents_are_read_from_the_sessions_own_store(
    memory_store: InMemorySessionStore,
) -> None:
    other = InMemorySessionStore()
    parent: Session[Any] = await Session.create(store=other)
    await parent.add_event_and_save(summary("kept elsewhere"))
    child: Session[Any] = await Session.create(parent_id=parent.id, store=other)
    await child.add_event_and_save(user("q"))
    assert await memory_store.count() == 0
    prompt = await build_prompt_from_session(child, HIERARCHICAL, include_parent_context=True)
    assert "kept elsewhere" in prompt[0]["content"]
