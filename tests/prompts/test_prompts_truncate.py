"""``truncate_prompt_to_token_limit`` on hand-made prompts."""

from __future__ import annotations

from typing import Any

import pytest
from prompt_factories import a, a_calls, assert_tool_pairs_whole, call, s, t, u

from llm_sessions.session_prompt_builder import truncate_prompt_to_token_limit
from llm_sessions.tokens import count_chat_messages


def tokens(messages: list[dict[str, Any]], model: str = "gpt-4o-mini") -> int:
    return count_chat_messages(messages, model).tokens


PROMPT = [
    s("You are helpful."),
    u("first question " * 5),
    a("first answer " * 10),
    u("second question"),
    a_calls(None, call("c1", "search"), call("c2", "search")),
    t("c1", "result one " * 10),
    t("c2", "result two " * 10),
    a("final answer " * 5),
]


async def test_a_prompt_that_fits_is_returned_unchanged_as_copies() -> None:
    result = await truncate_prompt_to_token_limit(PROMPT, tokens(PROMPT))
    assert result == PROMPT
    assert all(kept is not original for kept, original in zip(result, PROMPT, strict=True))


async def test_keeps_system_and_newest_user_then_newest_messages() -> None:
    budget = tokens([PROMPT[0], PROMPT[3], PROMPT[7]])
    result = await truncate_prompt_to_token_limit(PROMPT, budget)
    assert result == [PROMPT[0], PROMPT[3], PROMPT[7]]


async def test_tool_group_kept_whole_or_not_at_all() -> None:
    whole_tail = tokens([PROMPT[0], *PROMPT[3:]])
    result = await truncate_prompt_to_token_limit(PROMPT, whole_tail)
    assert result == [PROMPT[0], *PROMPT[3:]]
    result = await truncate_prompt_to_token_limit(PROMPT, whole_tail - 1)
    assert result == [PROMPT[0], PROMPT[3], PROMPT[7]]
    for budget in range(tokens([PROMPT[3]]), tokens(PROMPT) + 1):
        assert_tool_pairs_whole(await truncate_prompt_to_token_limit(PROMPT, budget))


async def test_system_message_goes_when_only_the_question_fits() -> None:
    result = await truncate_prompt_to_token_limit(PROMPT, tokens([PROMPT[3]]))
    assert result == [PROMPT[3]]


async def test_newest_user_message_over_budget_comes_back_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("WARNING", logger="llm_sessions.prompting.truncate"):
        result = await truncate_prompt_to_token_limit(PROMPT, tokens([PROMPT[3]]) - 1)
    assert result == [PROMPT[3]]
    assert f"needs {tokens([PROMPT[3]])} tokens" in caplog.text


async def test_budget_below_the_reply_primer_gives_an_empty_prompt_without_a_question() -> None:
    assert await truncate_prompt_to_token_limit([a("one")], 1) == []


async def test_prompt_without_user_or_system_messages() -> None:
    prompt = [a("one"), a("two"), a("three")]
    assert await truncate_prompt_to_token_limit(prompt, tokens(prompt[1:])) == prompt[1:]
    assert await truncate_prompt_to_token_limit([], 10) == []


async def test_counts_with_the_given_models_tokenizer() -> None:
    text = "ñandú " * 40
    prompt = [u("older " * 30), u(text)]
    for model in ("gpt-4o-mini", "gpt-4-turbo"):
        budget = tokens(prompt, model) - 1
        result = await truncate_prompt_to_token_limit(prompt, budget, model=model)
        assert result == [u(text)]
        assert tokens(result, model) <= budget
