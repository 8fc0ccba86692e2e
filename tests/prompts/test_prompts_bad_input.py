"""Bad arguments are rejected with an error naming the parameter and the value."""

from __future__ import annotations

from typing import Any

import pytest
from prompt_factories import session_of, user

from llm_sessions.exceptions import InvalidInputError, SessionManagerError
from llm_sessions.session_prompt_builder import (
    PromptStrategy,
    build_prompt_from_session,
    truncate_prompt_to_token_limit,
)


@pytest.mark.parametrize(
    ("kwargs", "field", "shown"),
    [
        ({"strategy": "bogus"}, "strategy", "'bogus'"),
        ({"strategy": "MINIMAL"}, "strategy", "'MINIMAL'"),
        ({"strategy": 3}, "strategy", "3"),
        ({"max_tokens": 0}, "max_tokens", "0"),
        ({"max_tokens": -5}, "max_tokens", "-5"),
        ({"max_tokens": 1.5}, "max_tokens", "1.5"),
        ({"max_tokens": True}, "max_tokens", "True"),
        ({"max_tokens": "100"}, "max_tokens", "'100'"),
        ({"model": ""}, "model", "''"),
        ({"model": None}, "model", "None"),
        ({"include_parent_context": "yes"}, "include_parent_context", "'yes'"),
        ({"current_query": 42}, "current_query", "42"),
    ],
)
async def test_bad_build_arguments(kwargs: dict[str, Any], field: str, shown: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        await build_prompt_from_session(session_of(user("hi")), **kwargs)
    assert raised.value.field == field
    assert f"{field}={shown}" in str(raised.value)
    assert isinstance(raised.value, ValueError)
    assert isinstance(raised.value, SessionManagerError)


async def test_unknown_strategy_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="'minimal', 'task', 'tool', 'conversation'"):
        await build_prompt_from_session(session_of(user("hi")), "everything")


@pytest.mark.parametrize("not_a_session", [None, {"events": []}, "session-id", [user("hi")]])
async def test_a_non_session_is_rejected(not_a_session: Any) -> None:
    with pytest.raises(InvalidInputError, match=r"^session=.* must be a Session") as raised:
        await build_prompt_from_session(not_a_session, PromptStrategy.CONVERSATION)
    assert raised.value.value is not_a_session


@pytest.mark.parametrize(
    ("prompt", "field"),
    [
        ("hello", "prompt"),
        ({"role": "user", "content": "hi"}, "prompt"),
        (None, "prompt"),
        ([{"role": "user", "content": "ok"}, "text"], "prompt[1]"),
        ([{"content": "no role"}], "prompt[0]"),
        ([{"role": None, "content": "x"}], "prompt[0]"),
    ],
)
async def test_bad_prompts_for_truncation(prompt: Any, field: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        await truncate_prompt_to_token_limit(prompt, 100)
    assert raised.value.field == field


@pytest.mark.parametrize("max_tokens", [None, 0, -1, 2.0, False])
async def test_bad_truncation_budget(max_tokens: Any) -> None:
    with pytest.raises(InvalidInputError, match=r"^max_tokens=") as raised:
        await truncate_prompt_to_token_limit([{"role": "user", "content": "hi"}], max_tokens)
    assert raised.value.value == max_tokens


async def test_rejected_input_changes_nothing() -> None:
    session = session_of(user("hi"))
    before = session.model_dump()
    with pytest.raises(InvalidInputError):
        await build_prompt_from_session(session, max_tokens=-1)
    assert session.model_dump() == before
    assert await build_prompt_from_session(session) == [{"role": "user", "content": "hi"}]
