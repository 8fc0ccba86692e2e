"""The inspector's search box in a real browser (the system Chromium driven by Playwright,
against a real server process over a SQLite file): a query typed on the sessions page lists the
signed-in tenant's hits; following one opens its session with the event marked and in view,
also when it lies far back in a long session and in a 390 px wide window; bad queries show a
message, never an error page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_helpers import ARTIFACTS, FITS, PHONE, run, screenshot, sign_in, waiting_expect
from server_helpers import KEY_A, KEYS, server_process

from llm_sessions.models import EventSource, Session, SessionEvent
from llm_sessions.storage import open_store

pytestmark = pytest.mark.slow
LONG = "alpha.long"
LONG_EVENTS = 1_250  # the hit lies beyond the newest page and the next one
TARGET_AT = 10
XSS = "<img src=x onerror=window.__xss=1> zebra crossing"


def _events(texts: list[str]) -> list[SessionEvent[Any]]:
    return [SessionEvent(message=text, source=EventSource.USER) for text in texts]


async def _seed(store_url: str) -> str:
    async with open_store(store_url) as store:
        texts = [f"message number {number}" for number in range(LONG_EVENTS)]
        texts[TARGET_AT] = "the zebra refund is waiting at the depot"
        long = Session(id=LONG, events=_events(texts))
        await store.save(long)
        await store.save(Session(id="alpha.html", events=_events([XSS])))
        await store.save(Session(id="beta.secret", events=_events(["beta's zebra refund"])))
        return long.events[TARGET_AT].id


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, the id of the event to find) of a server with tenants alpha and beta."""
    store_url = f"sqlite:///{tmp_path_factory.mktemp('search') / 'search.db'}"
    target = run(_seed(store_url))
    keys = ",".join(f"{key}={tenant}" for key, tenant in KEYS.items())
    with server_process(store_url, {"LLM_SESSIONS_API_KEYS": keys}) as base_url:
        yield base_url, target


def _search_and_follow(page: Any, served: tuple[str, str]) -> Any:
    """Type a query on the sessions page, check the hits, follow the one in the long session;
    returns Playwright's ``expect``."""
    base_url, target = served
    sign_in(page, base_url, KEY_A, "/")
    expect = waiting_expect()
    page.fill("form.search input[name=q]", "zebra refund")
    with page.expect_navigation():
        page.press("form.search input[name=q]", "Enter")
    hits = page.locator("ol.hits li.hit")
    expect(hits).to_have_count(2)  # the long session's and the HTML one's; never beta's
    expect(page.locator("ol.hits")).not_to_contain_text("beta")
    expect(hits.first.locator("mark").first).to_have_text("zebra")
    expect(page.locator("ol.hits")).to_contain_text(XSS.split(" zebra")[0].lstrip("<"))
    assert page.locator("ol.hits img").count() == 0
    assert page.evaluate("window.__xss") is None
    with page.expect_navigation():
        page.click(f"li.hit[data-event-id='{target}'] a.hit-link")
    assert page.url.endswith(f"/sessions/{LONG}#event-{target}")
    marked = page.locator("#tree li.node.highlighted")
    expect(marked).to_have_count(1)
    expect(marked).to_have_attribute("data-id", target)
    expect(marked.locator(".label")).to_have_text("the zebra refund is waiting at the depot")
    expect(marked).to_be_in_viewport()
    return expect


def test_typing_a_query_lists_hits_and_following_one_marks_its_event(
    page: Any, served: tuple[str, str]
) -> None:
    _search_and_follow(page, served)
    assert page.dialogs == [] and page.failed == []
    ARTIFACTS.mkdir(exist_ok=True)  # the window only: the whole long session is too tall
    page.screenshot(path=ARTIFACTS / "inspector-search-target.png")


def test_the_same_at_390_px(page: Any, served: tuple[str, str]) -> None:
    page.set_viewport_size(PHONE)
    _search_and_follow(page, served)
    assert page.evaluate(FITS)
    page.screenshot(path=ARTIFACTS / "inspector-search-target-narrow.png")
    page.go_back()
    waiting_expect()(page.locator("ol.hits li.hit")).to_have_count(2)
    assert page.evaluate(FITS)
    screenshot(page, "inspector-search-narrow")


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("", "is empty"),
        ("x" * 10_000, "the limit is 1,000 characters"),
        ("\ud800", "has no words to search for"),
        ('*** ( " : -', "has no words to search for"),
    ],
)
def test_bad_queries_show_a_message(
    page: Any, served: tuple[str, str], query: str, shown: str
) -> None:
    base_url, _ = served
    sign_in(page, base_url, KEY_A, "/search")
    expect = waiting_expect()
    page.fill("form.search input[name=q]", query)
    with page.expect_navigation() as navigation:
        page.click("form.search button[type=submit]")
    assert navigation.value.status == 422
    expect(page.locator("p.problem")).to_contain_text(shown)
    expect(page.locator("form.search input[name=q]")).to_be_visible()


def test_query_syntax_finds_the_words_around_it(page: Any, served: tuple[str, str]) -> None:
    base_url, target = served
    sign_in(page, base_url, KEY_A, "/search")
    page.fill("form.search input[name=q]", 'depot* OR (NEAR "zebra')
    with page.expect_navigation() as navigation:
        page.click("form.search button[type=submit]")
    assert navigation.value.status == 200
    waiting_expect()(page.locator(f"li.hit[data-event-id='{target}']")).to_have_count(1)
