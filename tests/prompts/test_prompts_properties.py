"""Properties over random sessions and prompts: never over budget, the newest user message
always kept, no tool call without its results and no result without its call."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prompt_factories import (
    assert_tool_pairs_whole,
    assistant,
    call,
    is_subsequence,
    session_of,
    summary,
    system,
    tool,
    user,
)

from llm_sessions.exceptions import TokenLimitExceeded
from llm_sessions.models.session_event import SessionEvent
from llm_sessions.session_prompt_builder import (
    PromptStrategy,
    build_prompt_from_session,
    truncate_prompt_to_token_limit,
)
from llm_sessions.tokens import count_chat_messages

MODEL = "gpt-4o-mini"
SETTINGS = settings(deadline=None, max_examples=120, suppress_health_check=[HealthCheck.too_slow])
texts = st.text(st.characters(codec="utf-8"), max_size=30)
words = st.lists(
    st.sampled_from(["alpha", "beta", "gamma", "delta", "42", "{", "é"]), max_size=25
).map(" ".join)
content = st.one_of(texts, words)
results = st.one_of(content, st.dictionaries(st.sampled_from("abc"), content, max_size=3))

tool_operation = st.tuples(
    st.just("tool"),
    st.sampled_from(["reply", "reply", "none", "user", "dangling"]),
    st.sampled_from(["f0", "f1", "search"]),
    results,
    st.one_of(st.none(), content),
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("user"), content),
        st.tuples(st.just("assistant"), content),
        st.tuples(st.just("declaring"), st.one_of(st.none(), content), st.integers(0, 2)),
        tool_operation,
        tool_operation,
        st.tuples(st.just("system"), content),
        st.tuples(st.just("summary"), content),
    ),
    max_size=24,
)


def tokens(messages: list[dict[str, Any]]) -> int:
    return count_chat_messages(messages, MODEL).tokens


def events_from(ops: list[tuple[Any, ...]]) -> list[SessionEvent[Any]]:
    events: list[SessionEvent[Any]] = []
    last_reply: SessionEvent[Any] | None = None
    last_user: SessionEvent[Any] | None = None
    for op in ops:
        kind = op[0]
        if kind == "user":
            last_user = user(op[1])
            events.append(last_user)
        elif kind == "assistant":
            last_reply = assistant(op[1])
            events.append(last_reply)
        elif kind == "declaring":
            declared = [call(f"decl{n}", f"f{n}") for n in range(op[2])]
            last_reply = assistant({"content": op[1], "tool_calls": declared})
            events.append(last_reply)
        elif kind == "tool":
            events.append(_tool(op, last_reply, last_user))
        elif kind == "system":
            events.append(system(op[1]))
        else:
            events.append(summary(op[1]))
    return events


def _tool(
    op: tuple[Any, ...], last_reply: SessionEvent[Any] | None, last_user: SessionEvent[Any] | None
) -> SessionEvent[Any]:
    _, link, name, result, error = op
    parent = {"reply": last_reply, "user": last_user}.get(link)
    event = tool(parent, name, result, error=error)
    if link == "dangling":
        event.parent_event_id = "no-such-event"
    return event


def required_message(
    events: list[SessionEvent[Any]], strategy: PromptStrategy, query: str | None
) -> dict[str, Any] | None:
    if query is not None:
        return {"role": "user", "content": query}
    users = [e for e in events if e.source.value == "user" and e.type.value == "message"]
    if not users:
        return None
    chosen = users[0] if strategy is PromptStrategy.MINIMAL else users[-1]
    return {"role": "user", "content": chosen.message}


@SETTINGS
@given(
    ops=operations,
    strategy=st.sampled_from(list(PromptStrategy)),
    share=st.floats(0.2, 1.2),
    query=st.one_of(st.none(), content),
)
def test_built_prompts_respect_the_budget(
    ops: list[tuple[Any, ...]], strategy: PromptStrategy, share: float, query: str | None
) -> None:
    events = events_from(ops)
    session = session_of(*events)
    full = asyncio.run(build_prompt_from_session(session, strategy, current_query=query))
    budget = max(1, round(share * tokens(full)))  # from nothing to more than everything
    assert_tool_pairs_whole(full)
    required = required_message(events, strategy, query)
    alone = tokens([required] if required else [])
    try:
        prompt = asyncio.run(
            build_prompt_from_session(session, strategy, budget, current_query=query)
        )
    except TokenLimitExceeded as exc:
        assert (exc.limit, exc.actual) == (budget, alone)
        assert alone > budget
        return
    assert alone <= budget
    assert tokens(prompt) <= budget
    assert_tool_pairs_whole(prompt)
    assert is_subsequence(prompt, full)
    if required is not None:
        assert [m for m in prompt if m["role"] == "user"][-1] == required
    if tokens(full) <= budget:
        assert prompt == full


def unique_prompt(data: st.DataObject) -> list[dict[str, Any]]:
    draw = data.draw
    prompt: list[dict[str, Any]] = []
    if draw(st.booleans()):
        prompt.append({"role": "system", "content": draw(content) + " s0"})
    kinds = draw(st.lists(st.sampled_from(["user", "assistant", "calls", "system"]), max_size=16))
    for n, kind in enumerate(kinds, start=1):
        text = f"{draw(content)} #{n}"
        if kind == "calls":
            ids = [f"c{n}_{k}" for k in range(draw(st.integers(1, 3)))]
            prompt.append(
                {"role": "assistant", "content": None, "tool_calls": [call(i, "f") for i in ids]}
            )
            prompt += [{"role": "tool", "tool_call_id": i, "content": f"{text} {i}"} for i in ids]
        else:
            prompt.append({"role": kind, "content": text})
    return prompt


@SETTINGS
@given(data=st.data(), share=st.floats(0.2, 1.2))
def test_truncated_prompts_respect_the_budget(data: st.DataObject, share: float) -> None:
    prompt = unique_prompt(data)
    budget = max(1, round(share * tokens(prompt)))
    users = [m for m in prompt if m["role"] == "user"]
    systems = [m for m in prompt if m["role"] == "system"]
    newest_user = users[-1] if users else None
    alone = tokens([newest_user] if newest_user else [])
    result = asyncio.run(truncate_prompt_to_token_limit(prompt, budget, MODEL))
    if alone > budget:
        assert result == ([newest_user] if newest_user else [])
        return
    assert tokens(result) <= budget
    assert_tool_pairs_whole(result)
    assert is_subsequence(result, prompt)
    pinned = [m for m in (newest_user, systems[0] if systems else None) if m is not None]
    if newest_user is not None:
        assert newest_user in result
    if systems:
        assert (systems[0] in result) == (tokens(pinned) <= budget)
    others_in = [m for m in prompt if m not in pinned]
    others_out = [m for m in result if m not in pinned]
    assert others_out == others_in[len(others_in) - len(others_out) :]  # newest kept
    if tokens(prompt) <= budget:
        assert result == prompt
