"""The inspector's usage page over HTTP (in process): cost and tokens per day by model and by
user, read from ``usage`` only, scoped to the signed-in tenant, with a date range that names
what is wrong with it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from server_helpers import KEY_A, KEY_B

from llm_sessions.models import EventSource, Session, SessionEvent, SessionMetadata, TokenUsage
from llm_sessions.server.inspector._usage import UsageWindow, usage_totals
from llm_sessions.server.tenancy import TenantStore
from llm_sessions.storage import InMemorySessionStore

DAY = datetime(2026, 11, 3, tzinfo=UTC)


class UsageOnlyStore(InMemorySessionStore):
    """A memory store that refuses whole loads, event reads and listings of sessions: the
    usage page must answer from ``usage`` alone."""

    async def get(self, session_id: str) -> Session[Any] | None:
        raise AssertionError(f"the usage page loaded {session_id}")

    async def read_events(self, session_id: str, **page: Any) -> Any:
        raise AssertionError(f"the usage page read the events of {session_id}")

    async def find_sessions(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the usage page listed sessions")


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield http


async def _sign_in(http: httpx.AsyncClient, key: str) -> None:
    response = await http.post(
        "/login",
        content=f"key={key}&next=%2Fusage",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 303


async def _put(
    store: InMemorySessionStore, session_id: str, day: int, user: str | None, **tokens: int
) -> None:
    """A session last updated ``day`` days after ``DAY``, one reply per model in ``tokens``."""
    moment = DAY + timedelta(days=day, hours=2)
    session: Session[Any] = Session(
        id=session_id,
        metadata=SessionMetadata(created_at=moment, updated_at=moment, user_id=user),
    )
    for model, count in tokens.items():
        usage = TokenUsage(prompt_tokens=count, completion_tokens=0, model=model.replace("_", "-"))
        session.events.append(
            SessionEvent(message="a", source=EventSource.LLM, token_usage=usage, timestamp=moment)
        )
    await store.save(session)


def _totals(page: str) -> dict[str, str]:
    found = re.search(r'<p class="totals" ([^>]*)>', page)
    assert found is not None
    return dict(re.findall(r'data-(\w+)="([^"]*)"', found.group(1)))


async def test_the_page_charts_a_tenants_usage_per_day_by_model_and_user(
    browser: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    await _put(memory_store, "alpha.a", 0, "alice", gpt_4o=1000, gpt_4o_mini=500)
    await _put(memory_store, "alpha.b", 1, "bob", gpt_4o_mini=2000)
    await _put(memory_store, "alpha.c", 1, None, local_model=300)
    await _put(memory_store, "alpha.old", -5, "alice", gpt_4o=9999)  # before the window
    await _put(memory_store, "beta.x", 0, "mallory", gpt_4o=7777)  # another tenant's
    await _sign_in(browser, KEY_A)

    response = await browser.get("/usage", params={"since": "2026-11-02", "until": "2026-11-05"})

    assert response.status_code == 200
    page = response.text
    expected = await memory_store.usage(
        group_by=(), since="2026-11-02", until="2026-11-06", prefix="alpha."
    )
    totals = _totals(page)
    assert int(totals["sessions"]) == 3 == expected[0].sessions
    assert int(totals["tokens"]) == 3800 == expected[0].tokens
    assert float(totals["cost"]) == pytest.approx(expected[0].cost_usd)
    assert "mallory" not in page and "9,999" not in page and "7,777" not in page
    for chart in ("by-model-usd", "by-model-tokens", "by-user-usd", "by-user-tokens"):
        svg = re.search(rf'<svg class="chart" id="{chart}"[^>]*>', page)
        assert svg is not None and 'role="img"' in svg.group(0)
        assert f'aria-labelledby="{chart}-title"' in svg.group(0)
    tokens = re.search(r'id="by-model-tokens"[^>]*data-total="([^"]+)"', page)
    assert tokens is not None and float(tokens.group(1)) == 3800
    assert "<title>2026-11-04 · gpt-4o-mini: 2,000</title>" in page
    assert "(no user)" in page and "local-model" in page and "+ unpriced" in page
    assert "style=" not in page and "<script>" not in page


async def test_an_empty_window_and_bad_dates(
    browser: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    await _put(memory_store, "alpha.a", 0, "alice", gpt_4o=10)
    await _sign_in(browser, KEY_A)

    empty = await browser.get("/usage", params={"since": "2025-01-01", "until": "2025-01-31"})
    assert empty.status_code == 200 and _totals(empty.text)["sessions"] == "0"
    assert empty.text.count("No usage.") == 2
    for query, named in (
        ({"since": "yesterday"}, "since=&#x27;yesterday&#x27; is invalid"),
        ({"since": "2026-11-05", "until": "2026-11-01"}, "until=&#x27;2026-11-01&#x27;"),
        ({"since": "2024-01-01", "until": "2026-01-01"}, "at most 366 days"),
    ):
        response = await browser.get("/usage", params=query)
        assert response.status_code == 422 and named in response.text
        assert "<svg" not in response.text


async def test_the_usage_page_asks_for_a_login_and_is_linked_from_the_list(
    browser: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    redirected = await browser.get("/usage")
    assert redirected.status_code == 303 and "/login" in redirected.headers["location"]
    await _sign_in(browser, KEY_B)
    page = (await browser.get("/usage")).text
    assert '<a href="/">All sessions</a>' in page
    assert _totals(page)["sessions"] == "0"


async def test_the_totals_read_usage_only() -> None:
    store = UsageOnlyStore()
    await _put(store, "a", 0, "alice", gpt_4o=10)
    window = UsageWindow.parse("2026-11-01", "", DAY.date() + timedelta(days=3))

    totals = await usage_totals(TenantStore(store, None), window)

    assert (totals.sessions, totals.tokens) == (1, 10)
    assert [one.name for one in totals.by_user] == ["alice"]
    assert window.days()[0] == "2026-11-01" and window.days()[-1] == "2026-11-06"
    assert UsageWindow.parse("", "", DAY.date()).days()[0] == "2026-10-28"
