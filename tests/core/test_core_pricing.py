"""Prices from genai-prices; unknown models unpriced; reported usage wins; usage adds up."""

from __future__ import annotations

import logging
import uuid
from types import SimpleNamespace

import genai_prices
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types import CompletionUsage

from llm_sessions import Session, SessionEvent, TokenSummary, TokenUsage
from llm_sessions.exceptions import InvalidInputError
from llm_sessions.models import CountMethod


def _unknown_model() -> str:
    # A fresh name per test: the price lookup (and its one warning) is cached per model.
    return f"no-such-model-{uuid.uuid4().hex[:10]}"


def _genai_price(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    usage = genai_prices.Usage(input_tokens=prompt_tokens, output_tokens=completion_tokens)
    return float(genai_prices.calc_price(usage, model).total_price)


def test_output_tokens_cost_more_than_input_tokens_for_gpt_4o_mini() -> None:
    prompt_only = TokenUsage(prompt_tokens=1000, model="gpt-4o-mini")
    completion_only = TokenUsage(completion_tokens=1000, model="gpt-4o-mini")
    assert prompt_only.estimated_cost_usd is not None
    assert completion_only.estimated_cost_usd is not None
    assert prompt_only.estimated_cost_usd < completion_only.estimated_cost_usd


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-4o", "gpt-4", "claude-3-5-sonnet"])
@pytest.mark.parametrize(("prompt", "completion"), [(1000, 0), (0, 1000), (1234, 567), (1, 1)])
def test_costs_equal_genai_prices(model: str, prompt: int, completion: int) -> None:
    usage = TokenUsage(prompt_tokens=prompt, completion_tokens=completion, model=model)
    expected = _genai_price(model, prompt, completion)
    assert usage.estimated_cost_usd == pytest.approx(expected, rel=1e-9, abs=1e-15)
    assert usage.is_priced is True


async def test_calculate_cost_returns_the_price() -> None:
    usage = TokenUsage(prompt_tokens=200, completion_tokens=100, model="gpt-4o-mini")
    assert await usage.calculate_cost() == pytest.approx(_genai_price("gpt-4o-mini", 200, 100))


async def test_an_unknown_model_is_unpriced_not_guessed() -> None:
    model = _unknown_model()
    usage = TokenUsage(prompt_tokens=1000, completion_tokens=500, model=model)
    assert usage.estimated_cost_usd is None
    assert usage.is_priced is False
    assert await usage.calculate_cost() is None
    assert usage.total_tokens == 1500


async def test_a_session_names_its_unpriced_models_and_sums_only_priced_usage() -> None:
    model = _unknown_model()
    session = await Session.create()
    priced = await SessionEvent.create_with_tokens(
        message="priced", prompt="priced", completion="reply", model="gpt-4o-mini"
    )
    unpriced = await SessionEvent.create_with_tokens(
        message="unpriced",
        prompt=None,
        usage={"prompt_tokens": 100, "completion_tokens": 50},
        model=model,
    )
    await session.add_event_and_save(priced)
    await session.add_event_and_save(unpriced)

    assert priced.token_usage is not None and priced.token_usage.estimated_cost_usd is not None
    assert session.token_summary.unpriced_models == [model]
    assert session.total_cost == pytest.approx(priced.token_usage.estimated_cost_usd)
    assert session.total_tokens == priced.token_usage.total_tokens + 150
    assert session.token_summary.usage_by_model[model].estimated_cost_usd is None
    assert "gpt-4o-mini" not in session.token_summary.unpriced_models

    reloaded = await session.store.get(session.id)
    assert reloaded is not None
    assert reloaded.token_summary.unpriced_models == [model]


def test_the_unknown_model_warning_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    model = _unknown_model()
    with caplog.at_level(logging.WARNING):
        TokenUsage(prompt_tokens=10, model=model)
        TokenUsage(prompt_tokens=20, completion_tokens=5, model=model)
    warnings = [r for r in caplog.records if model in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING


def test_a_known_model_logs_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        TokenUsage(prompt_tokens=10, model="gpt-4o-mini")
    assert [r for r in caplog.records if "gpt-4o-mini" in r.getMessage()] == []


def test_zero_tokens_of_an_unknown_model_do_not_mark_a_summary_unpriced() -> None:
    summary = TokenSummary()
    summary.add(TokenUsage(model=_unknown_model()))
    assert summary.unpriced_models == []


# -- provider-reported usage ----------------------------------------------------------------


async def test_reported_usage_dict_wins_over_counting() -> None:
    long_text = "This prompt has many more than fifty tokens. " * 30
    event = await SessionEvent.create_with_tokens(
        message="reply",
        prompt=long_text,
        completion="reply",
        model="gpt-4o-mini",
        usage={"prompt_tokens": 50, "completion_tokens": 7},
    )
    usage = event.token_usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (50, 7, 57)
    assert usage.count_method == "reported"
    assert usage.count_method is CountMethod.REPORTED
    assert usage.estimated_cost_usd == pytest.approx(_genai_price("gpt-4o-mini", 50, 7))


async def test_reported_usage_object_like_openais_completion_usage() -> None:
    reported = CompletionUsage(prompt_tokens=50, completion_tokens=7, total_tokens=57)
    event = await SessionEvent.create_with_tokens(
        message="reply", prompt="ignored", completion="ignored", model="gpt-4o", usage=reported
    )
    assert event.token_usage is not None
    assert (event.token_usage.prompt_tokens, event.token_usage.completion_tokens) == (50, 7)
    assert event.token_usage.count_method is CountMethod.REPORTED
    assert event.token_usage.model == "gpt-4o"


@pytest.mark.parametrize(
    "reported",
    [
        {"input_tokens": 50, "output_tokens": 7},
        SimpleNamespace(input_tokens=50, output_tokens=7),
    ],
    ids=["dict", "object"],
)
async def test_reported_usage_with_input_and_output_tokens(reported: object) -> None:
    event = await SessionEvent.create_with_tokens(
        message="reply", prompt="x", model="claude-3-5-sonnet", usage=reported
    )
    assert event.token_usage is not None
    assert (event.token_usage.prompt_tokens, event.token_usage.completion_tokens) == (50, 7)
    assert event.token_usage.total_tokens == 57
    assert event.token_usage.count_method is CountMethod.REPORTED
    assert event.token_usage.is_estimate is False


async def test_reported_usage_without_counts_is_rejected_naming_usage() -> None:
    with pytest.raises(InvalidInputError, match="usage"):
        await SessionEvent.create_with_tokens(
            message="reply", prompt="x", model="gpt-4o-mini", usage={"tokens": 3}
        )


async def test_reported_usage_as_token_usage_keeps_its_numbers() -> None:
    reported = TokenUsage(prompt_tokens=9, completion_tokens=2)
    event = await SessionEvent.create_with_tokens(
        message="reply", prompt="x", model="gpt-4o-mini", usage=reported
    )
    assert event.token_usage is not None
    assert (event.token_usage.prompt_tokens, event.token_usage.completion_tokens) == (9, 2)
    assert event.token_usage.model == "gpt-4o-mini"
    assert event.token_usage.estimated_cost_usd == pytest.approx(_genai_price("gpt-4o-mini", 9, 2))


# -- arithmetic and invariants --------------------------------------------------------------


def test_add_sums_counts_and_costs() -> None:
    a = TokenUsage(prompt_tokens=100, completion_tokens=20, model="gpt-4o-mini")
    b = TokenUsage(prompt_tokens=30, completion_tokens=5, model="gpt-4o-mini")
    total = a + b
    assert (total.prompt_tokens, total.completion_tokens, total.total_tokens) == (130, 25, 155)
    assert total.model == "gpt-4o-mini"
    assert total.estimated_cost_usd == pytest.approx(_genai_price("gpt-4o-mini", 130, 25))
    # The operands are unchanged.
    assert (a.total_tokens, b.total_tokens) == (120, 35)


def test_add_across_models_keeps_the_summed_cost() -> None:
    a = TokenUsage(prompt_tokens=100, completion_tokens=20, model="gpt-4o-mini")
    b = TokenUsage(prompt_tokens=100, completion_tokens=20, model="gpt-4o")
    total = a + b
    assert total.total_tokens == 240
    assert a.estimated_cost_usd is not None and b.estimated_cost_usd is not None
    assert total.estimated_cost_usd == pytest.approx(a.estimated_cost_usd + b.estimated_cost_usd)


def test_add_with_an_unpriced_usage_is_unpriced() -> None:
    a = TokenUsage(prompt_tokens=100, model="gpt-4o-mini")
    b = TokenUsage(prompt_tokens=100, model=_unknown_model())
    total = a + b
    assert total.total_tokens == 200
    assert total.estimated_cost_usd is None


def test_adding_an_empty_usage_changes_nothing() -> None:
    # ``sum(usages, TokenUsage())`` is the natural way to total a list of usages.
    usages = [
        TokenUsage(prompt_tokens=10, completion_tokens=5, model="gpt-4o-mini"),
        TokenUsage(prompt_tokens=20, completion_tokens=1, model="gpt-4o-mini"),
    ]
    total = sum(usages, TokenUsage())
    assert total.total_tokens == 36
    assert total.estimated_cost_usd == pytest.approx(_genai_price("gpt-4o-mini", 30, 6))


def test_add_refuses_other_types() -> None:
    with pytest.raises(TypeError):
        TokenUsage(prompt_tokens=1) + 1  # type: ignore[operator]


async def test_update_adds_tokens_and_reprices() -> None:
    usage = TokenUsage(prompt_tokens=10, completion_tokens=2, model="gpt-4o-mini")
    await usage.update(prompt_tokens=5, completion_tokens=3)
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (15, 5, 20)
    assert usage.estimated_cost_usd == pytest.approx(_genai_price("gpt-4o-mini", 15, 5))
    await usage.update(7)
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens == 27


def test_total_is_derived_from_the_parts() -> None:
    usage = TokenUsage(prompt_tokens=3, completion_tokens=4)
    assert usage.total_tokens == 7
    assert TokenUsage(prompt_tokens=3, completion_tokens=4, total_tokens=7).total_tokens == 7


def test_assigning_a_part_keeps_the_total_equal_to_the_sum() -> None:
    usage = TokenUsage(prompt_tokens=3, completion_tokens=4, model="gpt-4o-mini")
    usage.prompt_tokens = 10
    assert usage.total_tokens == 14
    assert usage.estimated_cost_usd == pytest.approx(_genai_price("gpt-4o-mini", 10, 4))


def test_assigning_a_part_after_an_explicit_total_keeps_the_total_equal_to_the_sum() -> None:
    usage = TokenUsage(prompt_tokens=3, completion_tokens=4, total_tokens=7)
    usage.completion_tokens = 6
    assert usage.total_tokens == 9


def test_a_total_that_disagrees_with_the_sum_is_rejected() -> None:
    with pytest.raises(ValueError, match="total_tokens") as info:
        TokenUsage(prompt_tokens=3, completion_tokens=4, total_tokens=9)
    assert "9" in str(info.value) and "7" in str(info.value)


@pytest.mark.parametrize("field", ["prompt_tokens", "completion_tokens", "total_tokens"])
def test_negative_counts_are_rejected_naming_field_and_value(field: str) -> None:
    with pytest.raises(ValueError, match=field) as info:
        TokenUsage(**{field: -1})
    assert "-1" in str(info.value)


@pytest.mark.parametrize(
    ("args", "field"),
    [((-1,), "prompt_tokens"), ((0, -2), "completion_tokens")],
)
async def test_update_rejects_negative_counts_and_changes_nothing(
    args: tuple[int, ...], field: str
) -> None:
    usage = TokenUsage(prompt_tokens=10, completion_tokens=2, model="gpt-4o-mini")
    before = usage.model_dump()
    with pytest.raises(ValueError, match=field) as info:
        await usage.update(*args)
    assert str(args[-1]) in str(info.value)
    assert usage.model_dump() == before


def test_assigning_a_negative_count_is_rejected() -> None:
    usage = TokenUsage(prompt_tokens=1)
    with pytest.raises(ValueError, match="prompt_tokens"):
        usage.prompt_tokens = -5
    assert usage.prompt_tokens == 1


async def test_token_summary_add_usage_keeps_a_per_model_breakdown() -> None:
    summary = TokenSummary()
    await summary.add_usage(TokenUsage(prompt_tokens=10, completion_tokens=5, model="gpt-4o"))
    await summary.add_usage(TokenUsage(prompt_tokens=1, completion_tokens=1, model="gpt-4o"))
    await summary.add_usage(TokenUsage(prompt_tokens=7, model="gpt-4o-mini"))
    assert (summary.total_prompt_tokens, summary.total_completion_tokens) == (18, 6)
    assert summary.total_tokens == 24
    assert set(summary.usage_by_model) == {"gpt-4o", "gpt-4o-mini"}
    assert summary.usage_by_model["gpt-4o"].total_tokens == 17
    expected = _genai_price("gpt-4o", 11, 6) + _genai_price("gpt-4o-mini", 7, 0)
    assert summary.total_estimated_cost_usd == pytest.approx(expected)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=0, max_value=10**9),
)
def test_usage_arithmetic_keeps_its_invariants(p1: int, c1: int, p2: int, c2: int) -> None:
    a = TokenUsage(prompt_tokens=p1, completion_tokens=c1, model="gpt-4o-mini")
    b = TokenUsage(prompt_tokens=p2, completion_tokens=c2, model="gpt-4o-mini")
    total = a + b
    assert total.total_tokens == total.prompt_tokens + total.completion_tokens
    assert total.total_tokens == a.total_tokens + b.total_tokens
    assert a.estimated_cost_usd is not None and b.estimated_cost_usd is not None
    assert total.estimated_cost_usd == pytest.approx(
        a.estimated_cost_usd + b.estimated_cost_usd, rel=1e-9, abs=1e-12
    )
    assert (b + a).total_tokens == total.total_tokens


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.none()
        | st.builds(
            TokenUsage,
            prompt_tokens=st.integers(min_value=0, max_value=10**6),
            completion_tokens=st.integers(min_value=0, max_value=10**6),
            model=st.sampled_from(["gpt-4o-mini", "gpt-4o", "no-such-model-xyz"]),
            count_method=st.sampled_from(list(CountMethod)),
        ),
        max_size=30,
    )
)
def test_a_summary_of_usages_equals_adding_them_in_turn(usages: list[TokenUsage | None]) -> None:
    added = TokenSummary()
    for usage in usages:
        if usage is not None:
            added.add(usage)
    summary = TokenSummary.of(usages)
    assert summary.model_dump() == added.model_dump()
    present = [u for u in usages if u is not None]
    assert summary.total_tokens == sum(u.total_tokens for u in present)
    unpriced = {u.model for u in present if u.model == "no-such-model-xyz" and u.total_tokens}
    assert set(summary.unpriced_models) == unpriced
    for model, usage in summary.usage_by_model.items():
        assert usage.total_tokens == sum(u.total_tokens for u in present if u.model == model)


_USAGES = st.builds(
    TokenUsage,
    prompt_tokens=st.integers(0, 5000),
    completion_tokens=st.integers(0, 5000),
    model=st.sampled_from(["gpt-4o", "gpt-4o-mini", "", "no-such-model-in-sums"]),
    count_method=st.sampled_from(list(CountMethod)),
)


@given(st.lists(st.one_of(st.none(), _USAGES), max_size=30))
def test_a_summary_of_many_usages_is_the_usages_added_one_by_one(
    usages: list[TokenUsage | None],
) -> None:
    one_by_one = TokenSummary()
    for usage in usages:
        if usage is not None:
            one_by_one.add(usage)
    assert TokenSummary.of(usages).model_dump() == one_by_one.model_dump()
