"""The inspector as a new user meets it, in Chromium at 1280 and 390 px wide: every page fits a
phone's width, a conversation's segments are one row, the events are part of the page, a
summary says so once, a fork asks first and names its original, and the icon is served.

Full-page screenshots go to ``tests/artifacts/`` (``fit-*.png``), to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_helpers import FITS, PHONE, WIDE, run, screenshot, sign_in, waiting_expect
from inspector_seed import put_dated_session, record_conversation
from server_helpers import KEY_A, KEYS, server_process

from llm_sessions.storage import open_store

pytestmark = pytest.mark.slow
LONG_ID = "alpha.sess_" + "0123456789abcdef" * 2
"""A tenant-prefixed id as the server makes them (``TenantStore.new_id``)."""
SOURCE = "alpha.fork_source"


async def _seed(store_url: str) -> None:
    async with open_store(store_url) as store:
        await record_conversation(store, LONG_ID)
        await record_conversation(store, SOURCE)
        for number in range(3):
            await put_dated_session(store, f"alpha.sess_{number:032x}", days_ago=number + 1)


async def _ids(store_url: str) -> list[str]:
    async with open_store(store_url) as store:
        return await store.list_sessions()


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file with tenant alpha's sessions."""
    url = f"sqlite:///{tmp_path_factory.mktemp('fit') / 'keyed.db'}"
    run(_seed(url))
    return url


@pytest.fixture(scope="module")
def keyed(store_url: str) -> Iterator[str]:
    """The base URL of a server with tenants alpha and beta over ``store_url``."""
    keys = ",".join(f"{key}={tenant}" for key, tenant in KEYS.items())
    with server_process(store_url, {"LLM_SESSIONS_API_KEYS": keys}) as base_url:
        yield base_url


def _inside_the_window(locator: Any, width: int) -> bool:
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


def test_at_phone_width_login_the_list_and_a_session_fit(page: Any, keyed: str) -> None:
    expect = waiting_expect()
    page.set_viewport_size(PHONE)
    sign_in_form = page.goto(keyed + "/")
    assert sign_in_form is not None and "/login" in page.url
    assert page.evaluate(FITS)
    screenshot(page, "fit-phone-login")
    sign_in(page, keyed, KEY_A)
    cards = page.locator("tr.session")
    expect(cards.locator("td.id a", has_text=LONG_ID)).to_have_count(1)
    assert page.evaluate(FITS)
    expect(page.locator("table.sessions thead")).to_be_hidden()
    for index in range(cards.count()):  # five, and a fork if that test ran first
        card = cards.nth(index)
        for cell in ("td.id a", "td.updated", "td.event-count", "td.cost", "td.models"):
            assert _inside_the_window(card.locator(cell), PHONE["width"]), (index, cell)
    long_card = cards.filter(has_text=LONG_ID)
    expect(long_card.locator("td.event-count")).to_have_text("6 events")
    expect(cards.last.locator("td.token-count")).to_have_text("1 token")
    screenshot(page, "fit-phone-sessions")
    page.goto(f"{keyed}/sessions/{LONG_ID}")
    runs = page.locator("#runs table.runs")
    expect(runs.locator("tr.run")).to_have_count(1)
    expect(page.locator("#usage figure").first).to_contain_text("gpt-4o-mini")
    assert page.evaluate(FITS)
    assert _inside_the_window(page.locator("h1 .id"), PHONE["width"])
    assert runs.evaluate("table => table.scrollWidth <= table.clientWidth")
    assert _inside_the_window(runs.locator("tr.run td.timeline"), PHONE["width"])
    screenshot(page, "fit-phone-session")


def test_at_desktop_width_the_list_stays_a_table(page: Any, keyed: str) -> None:
    expect = waiting_expect()
    sign_in(page, keyed, KEY_A)
    expect(page.locator("table.sessions thead")).to_be_visible()
    row = page.locator("tr.session").first
    assert row.evaluate("row => getComputedStyle(row).display") == "table-row"
    screenshot(page, "fit-wide-sessions")  # before the checks: to look at when one fails
    assert page.evaluate(FITS)
    # A whole id on one line (an inline box broken over lines has one rectangle per line).
    long_id = page.locator("td.id > a", has_text=LONG_ID)
    assert long_id.evaluate("link => link.getClientRects().length") == 1
    for empty in ("th.col-user", "th.col-properties"):  # no session here has any
        expect(page.locator(empty)).to_have_count(0)
    page.goto(f"{keyed}/sessions/{LONG_ID}")
    expect(page.locator("#runs tr.run")).to_have_count(1)
    screenshot(page, "fit-wide-session")


def test_a_conversations_segments_are_one_row_of_the_list(
    page: Any, keyless: tuple[str, list[str]]
) -> None:
    expect = waiting_expect()
    base_url, (first, newest) = keyless
    for size in (WIDE, PHONE):
        page.set_viewport_size(size)
        page.goto(base_url + "/")
        rows = page.locator("tr.session")
        expect(rows).to_have_count(1)
        expect(rows.locator("td.id > a")).to_have_text(newest)
        segments = rows.locator("details.segments")
        expect(segments.locator("summary")).to_have_text("2 segments")
        segments.locator("summary").click()
        expect(segments.locator("a")).to_have_text([first, newest])
        assert page.evaluate(FITS)
        screenshot(page, f"fit-segments-{size['width']}")


@pytest.mark.parametrize("size", [{"width": 1280, "height": 560}, PHONE])
def test_the_events_are_part_of_the_page_not_a_box_that_scrolls(
    page: Any, keyless: tuple[str, list[str]], size: dict[str, int]
) -> None:
    """A full-page screenshot shows every event loaded: the page scrolls, not the events."""
    expect = waiting_expect()
    base_url, (_, newest) = keyless
    page.set_viewport_size(size)
    page.goto(f"{base_url}/sessions/{newest}")
    expect(page.locator("#session[data-ready=true]")).to_have_count(1)
    events = page.locator("#events")
    assert events.evaluate("box => getComputedStyle(box).overflowY") == "visible"
    assert events.evaluate("box => box.scrollHeight <= box.clientHeight")
    last_reply = page.locator("#tree > li.kind-llm_message").last
    expect(last_reply).to_contain_text("92 EUR")
    assert page.evaluate(FITS)
    screenshot(page, f"fit-events-{size['width']}")


def test_a_summary_row_says_summary_once(page: Any, keyless: tuple[str, list[str]]) -> None:
    expect = waiting_expect()
    base_url, (_, newest) = keyless
    page.goto(f"{base_url}/sessions/{newest}")
    row = page.locator("#tree li.kind-summary > .row")
    expect(row).to_have_count(1)
    assert row.inner_text().lower().count("summary") == 1


def test_fork_asks_first_and_the_fork_names_its_original(
    page: Any, keyed: str, store_url: str
) -> None:
    expect = waiting_expect()
    before = run(_ids(store_url))
    sign_in(page, keyed, KEY_A, f"/sessions/{SOURCE}")
    expect(page.locator("#session[data-ready=true]")).to_have_count(1)
    expect(page.locator("#forked-from")).to_be_hidden()
    page.click("#fork")
    expect(page.locator("#fork")).to_be_enabled()
    assert len(page.dialogs) == 1 and "Fork" in page.dialogs[0]
    assert page.url.endswith(f"/sessions/{SOURCE}")
    assert run(_ids(store_url)) == before  # declined: nothing forked
    page.accept_dialogs = True
    with page.expect_navigation():
        page.click("#fork")
    assert "/sessions/alpha.sess_" in page.url
    notice = page.locator("#forked-from")
    expect(notice).to_contain_text("fork of")
    expect(notice.locator("a")).to_have_text(SOURCE)
    screenshot(page, "fit-fork")
    with page.expect_navigation():
        notice.locator("a").click()
    assert page.url.endswith(f"/sessions/{SOURCE}")


def test_every_page_has_its_icon(page: Any, keyed: str) -> None:
    sign_in(page, keyed, KEY_A)
    for path in ("/login", "/", f"/sessions/{SOURCE}"):
        page.goto(keyed + path)
        icon = page.locator("link[rel=icon]")
        assert icon.get_attribute("href") == "/favicon.ico", path
    answer = page.request.get(keyed + "/favicon.ico")
    assert answer.status == 200 and answer.headers["content-type"] == "image/x-icon"
    assert answer.body()[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert page.failed == []
