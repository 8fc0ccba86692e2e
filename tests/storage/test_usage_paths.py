"""``usage_in``'s fast way for groupings by summary columns adds up what the general way does,
for every grouping and filter it takes, over rows with and without users, models, prices and
events without token usage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from llm_sessions import SessionSummary
from llm_sessions.storage._fleet_query import (
    UsageQuery,
    _grouped_usage,
    _plain,
    _plain_usage,
    usage_in,
)
from llm_sessions.storage._summaries import ModelTotals

START = datetime(2026, 3, 30, 20, tzinfo=UTC)


def summary(n: int) -> SessionSummary:
    """The n-th row: three users and none, two models (one unpriced) or none, some events
    without usage, an hour apart across a month's end."""
    models: dict[str, ModelTotals] = {}
    if n % 4 != 3:
        models["gpt-4o"] = ModelTotals(events=2, tokens=10 + n, cost_usd=0.001 * n)
    if n % 3 == 0:
        models["mystery"] = ModelTotals(events=1, tokens=5, cost_usd=0.0, priced=False)
    counted = sum(model.events for model in models.values())
    moment = START + timedelta(hours=n)
    return SessionSummary(
        id=f"{'acme.' if n % 2 else 'other.'}{n:03d}",
        root_id=f"r{n}",
        user_id=None if n % 5 == 0 else f"user-{n % 3}",
        created_at=moment,
        updated_at=moment,
        event_count=counted + n % 2,
        total_tokens=sum(model.tokens for model in models.values()),
        total_cost_usd=sum(model.cost_usd for model in models.values()),
        unpriced_models=sorted(name for name, model in models.items() if not model.priced),
        models=sorted(models),
        model_usage=models,
    )


ROWS = [summary(n) for n in range(60)]


@pytest.mark.parametrize(
    "group_by", [(), ("user_id",), ("day", "model"), ("model", "month", "user_id"), ("month",)]
)
@pytest.mark.parametrize(
    "limits",
    [
        {},
        {"where": {"user_id": "user-1"}},
        {"where": {"user_id": None}, "prefix": "acme."},
        {"since": START + timedelta(hours=7), "until": START + timedelta(days=1, hours=3)},
        {"where": {"user_id": 1}},
    ],
)
def test_the_fast_way_adds_up_what_the_general_way_does(
    group_by: tuple[str, ...], limits: dict[str, Any]
) -> None:
    query = UsageQuery.checked(group_by=group_by, **limits)
    assert _plain(query)
    fast, general = _plain_usage(ROWS, query), _grouped_usage(ROWS, query)
    assert [row.model_dump(exclude={"cost_usd"}) for row in fast] == [
        row.model_dump(exclude={"cost_usd"}) for row in general
    ]
    assert [row.cost_usd for row in fast] == pytest.approx([row.cost_usd for row in general])
    if limits.get("where") != {"user_id": 1}:
        assert fast, "the rows chosen match some sessions"


def test_a_property_grouping_or_filter_takes_the_general_way() -> None:
    by_team = UsageQuery.checked(group_by="team")
    of_team = UsageQuery.checked(group_by="user_id", where={"team": "red"})
    assert not _plain(by_team) and not _plain(of_team)
    assert usage_in(ROWS, by_team) == _grouped_usage(ROWS, by_team)
    assert usage_in(ROWS, of_team) == []
