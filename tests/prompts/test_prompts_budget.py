"""``max_tokens``: never over budget, newest user message kept, oldest dropped first, tool pairs
kept whole; counts cached and the history walked only as far as the budget reaches."""

from __future__ import annotations

from typing import Any

import pytest
from prompt_factories import (
    a,
    a_calls,
    assert_tool_pairs_whole,
    assistant,
    call,
    s,
    session_of,
    system,
    t,
    tool,
    u,
    user,
)

from llm_sessions.exceptions import TokenLimitExceeded
from llm_sessions.models.session import Session
from llm_sessions.models.session_event import SessionEvent
from llm_sessions.prompting import groups
from llm_sessions.prompting.budget import MessageTokenCache, message_cache, prompt_tokens
from llm_sessions.session_prompt_builder import PromptStrategy, build_prompt_from_session
from llm_sessions.tokens import count_chat_message, count_chat_messages

MODEL = "gpt-4o-mini"
CONVERSATION = PromptStrategy.CONVERSATION


def tokens(messages: list[dict[str, Any]], model: str = MODEL) -> int:
    return count_chat_messages(messages, model).tokens


def long_chat(turns: int) -> Session[Any]:
    events: list[SessionEvent[Any]] = []
    for n in range(turns):
        events += [user(f"question {n} " * 5), assistant(f"answer {n} " * 20)]
    return session_of(*events)


async def test_oldest_messages_are_dropped_first() -> None:
    session = long_chat(10)
    full = await build_prompt_from_session(session, CONVERSATION)
    budget = tokens(full[-5:])
    prompt = await build_prompt_from_session(session, CONVERSATION, max_tokens=budget)
    assert prompt == full[-5:]
    smaller = await build_prompt_from_session(session, CONVERSATION, max_tokens=budget - 1)
    assert smaller == full[-4:]
    assert tokens(smaller) <= budget - 1


async def test_budget_is_counted_exactly_like_count_chat_messages() -> None:
    session = long_chat(6)
    for budget in range(tokens([u("question 5 " * 5)]), 400, 7):
        prompt = await build_prompt_from_session(session, CONVERSATION, max_tokens=budget)
        assert tokens(prompt) <= budget
        assert prompt_tokens(prompt, MODEL) == tokens(prompt)


async def test_newest_user_message_kept_even_when_replies_after_it_are_not() -> None:
    session = session_of(
        user("early"), assistant("x"), user("latest question"), assistant("long reply " * 200)
    )
    budget = tokens([u("latest question")]) + 2
    prompt = await build_prompt_from_session(session, CONVERSATION, max_tokens=budget)
    assert prompt == [u("latest question")]


async def test_newest_user_message_over_budget_raises() -> None:
    question = "why " * 50
    session = session_of(user("a"), user(question))
    alone = tokens([u(question)])
    with pytest.raises(TokenLimitExceeded) as raised:
        await build_prompt_from_session(session, CONVERSATION, max_tokens=alone - 1)
    assert (raised.value.limit, raised.value.actual) == (alone - 1, alone)
    assert await build_prompt_from_session(session, CONVERSATION, max_tokens=alone) == [u(question)]


async def test_current_query_over_budget_raises() -> None:
    with pytest.raises(TokenLimitExceeded):
        await build_prompt_from_session(long_chat(2), current_query="word " * 100, max_tokens=50)


async def test_budget_below_the_reply_primer_raises_even_without_messages() -> None:
    with pytest.raises(TokenLimitExceeded) as raised:
        await build_prompt_from_session(Session(), CONVERSATION, max_tokens=2)
    assert raised.value.actual == tokens([])


async def test_leading_system_message_kept_while_history_goes() -> None:
    session = session_of(system("You are terse."), *long_chat(8).events)
    full = await build_prompt_from_session(session, CONVERSATION)
    budget = tokens([s("You are terse."), *full[-3:]])
    prompt = await build_prompt_from_session(session, CONVERSATION, max_tokens=budget)
    assert prompt == [s("You are terse."), *full[-3:]]


async def test_system_message_dropped_when_only_the_question_fits() -> None:
    session = session_of(system("You are terse. " * 30), user("q"))
    prompt = await build_prompt_from_session(session, CONVERSATION, max_tokens=tokens([u("q")]))
    assert prompt == [u("q")]


async def test_a_tool_pair_that_does_not_fit_is_dropped_whole() -> None:
    reply = assistant("Looking.", event_id="a1")
    session = session_of(
        user("q1"),
        reply,
        tool(reply, "search", "result " * 40, event_id="t1"),
        tool(reply, "search", "more " * 40, event_id="t2"),
        user("q2"),
    )
    full = await build_prompt_from_session(session, CONVERSATION)
    pair = full[1:4]
    assert pair[0] == a_calls("Looking.", call("call_t1", "search"), call("call_t2", "search"))
    for budget in range(tokens([u("q2")]), tokens(full) + 1):
        prompt = await build_prompt_from_session(session, CONVERSATION, max_tokens=budget)
        assert_tool_pairs_whole(prompt)
        has_pair = pair[0] in prompt
        assert has_pair == (budget >= tokens(full[1:]))
        assert tokens(prompt) <= budget


@pytest.mark.parametrize("strategy", list(PromptStrategy))
async def test_every_strategy_honours_the_budget(strategy: PromptStrategy) -> None:
    reply = assistant("Calling.", event_id="a1")
    session = session_of(
        system("sys " * 20),
        user("task " * 20),
        reply,
        tool(reply, "f", "r " * 50, event_id="t1"),
        assistant("done " * 30),
        user("follow up " * 10),
    )
    full = await build_prompt_from_session(session, strategy)
    newest_user = [m for m in full if m["role"] == "user"][-1]
    for budget in range(tokens([newest_user]), tokens(full) + 2, 5):
        prompt = await build_prompt_from_session(session, strategy, max_tokens=budget)
        assert tokens(prompt) <= budget
        assert newest_user in prompt
        assert_tool_pairs_whole(prompt)
    assert await build_prompt_from_session(session, strategy, max_tokens=tokens(full)) == full


async def test_task_focused_keeps_the_task_before_the_reply() -> None:
    session = session_of(user("the task"), assistant("reply " * 50), user("latest"))
    budget = tokens([u("the task"), u("latest")])
    prompt = await build_prompt_from_session(
        session, PromptStrategy.TASK_FOCUSED, max_tokens=budget
    )
    assert prompt == [u("the task"), u("latest")]


def test_cache_counts_equal_count_chat_message_and_hit() -> None:
    cache = MessageTokenCache(maxsize=2)
    messages = [u("one"), a_calls(None, call("c1", "f")), t("c1", "{}")]
    for message in messages:
        assert cache.tokens(message, MODEL) == count_chat_message(message, MODEL)
    assert (cache.hits, cache.misses) == (0, 3)
    assert cache.tokens(messages[2], MODEL) == count_chat_message(messages[2], MODEL)
    assert cache.hits == 1
    cache.tokens(messages[0], MODEL)  # evicted: the cache holds two entries
    assert cache.misses == 4
    assert cache.tokens(u("one"), "gpt-4") == count_chat_message(u("one"), "gpt-4")
    assert cache.misses == 5  # a different model is a different count


def test_cache_notices_an_edited_message() -> None:
    cache = MessageTokenCache()
    assert cache.tokens(u("short"), MODEL) < cache.tokens(u("much longer text " * 5), MODEL)


def big_session(size: int) -> Session[Any]:
    events: list[SessionEvent[Any]] = []
    while len(events) < size:
        reply = assistant("reply text " * 30)
        events += [user("question text " * 10), reply, tool(reply, "f", "result " * 20)]
    return session_of(*events[:size])


async def test_long_history_is_walked_only_as_far_as_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rendered: list[groups.EventGroup] = []
    original = groups.EventGroup.render

    def counting_render(self: groups.EventGroup) -> list[dict[str, Any]]:
        rendered.append(self)
        return original(self)

    monkeypatch.setattr(groups.EventGroup, "render", counting_render)
    session = big_session(10_000)
    message_cache.clear()
    prompt = await build_prompt_from_session(session, CONVERSATION, max_tokens=2_000)
    assert tokens(prompt) <= 2_000
    assert len(rendered) <= len(prompt) + 2
    assert message_cache.misses <= len(prompt) + 4
    misses = message_cache.misses
    again = await build_prompt_from_session(session, CONVERSATION, max_tokens=2_000)
    assert again == prompt
    assert message_cache.misses == misses  # every count came from the cache


async def test_no_budget_means_everything() -> None:
    session = long_chat(30)
    prompt = await build_prompt_from_session(session, CONVERSATION)
    assert len(prompt) == 60
    assert prompt[0] == u("question 0 " * 5)
    assert prompt[-1] == a("answer 29 " * 20)
