"""The inspector in a real browser: the system Chromium driven by Playwright against real
server processes over SQLite files; events are appended by this process, through its own store
object, while the page is open.

Screenshots of the sessions list and a session page are saved to ``tests/artifacts/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_helpers import ARTIFACTS, run, sign_in, waiting_expect
from inspector_seed import (
    IMG_TEXT,
    SCRIPT_TEXT,
    TOOL_ERROR,
    UNPRICED_MODEL,
    put_dated_session,
    record_conversation,
)
from server_helpers import KEY_A, KEY_B, KEYS, server_process

from llm_sessions.models.event_source import EventSource
from llm_sessions.models.session import Session
from llm_sessions.models.session_event import SessionEvent
from llm_sessions.server.inspector.key_cookie import COOKIE_NAME
from llm_sessions.storage import open_store

pytestmark = pytest.mark.slow
CHAT = "alpha.chat"
EMPTY = "alpha.empty"
LONG = "alpha.long"
LONG_EVENTS = 230


async def _seed_keyed(store_url: str) -> None:
    async with open_store(store_url) as store:
        events = [
            SessionEvent(message=f"message number {number}", source=EventSource.USER)
            for number in range(LONG_EVENTS)
        ]
        await store.save(Session(id=LONG, events=events))
        await store.save(Session(id=EMPTY))
        await record_conversation(store, CHAT)
        await put_dated_session(store, "beta.private", days_ago=0)
        await put_dated_session(store, "alpha.<img src=x onerror=window.__xss=2>", days_ago=1)


async def _append(store_url: str, session_id: str, text: str) -> None:
    async with open_store(store_url) as store:
        session = await store.get(session_id)
        assert session is not None
        await session.add_event(SessionEvent(message=text, source=EventSource.USER))
        await store.save(session)


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, store URL) of a server with tenants alpha and beta over a seeded SQLite file."""
    store_url = f"sqlite:///{tmp_path_factory.mktemp('inspector') / 'keyed.db'}"
    run(_seed_keyed(store_url))
    keys = ",".join(f"{key}={tenant}" for key, tenant in KEYS.items())
    with server_process(store_url, {"LLM_SESSIONS_API_KEYS": keys}) as base_url:
        yield base_url, store_url


def _open_as_alpha(page: Any, keyed: tuple[str, str], session_id: str) -> Any:
    """Sign in as tenant alpha on the page of ``session_id``; returns Playwright's ``expect``."""
    sign_in(page, keyed[0], KEY_A, f"/sessions/{session_id}")
    return waiting_expect()


def test_the_sessions_list_after_signing_in(page: Any, keyed: tuple[str, str]) -> None:
    base_url, _ = keyed
    response = page.goto(base_url + "/")
    assert "/login" in page.url
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy
    sign_in(page, base_url, KEY_A)
    ids = page.locator("table.sessions td.id a").all_text_contents()
    assert ids[:1] == [CHAT] and set(ids) == {
        CHAT,
        LONG,
        EMPTY,
        "alpha.<img src=x onerror=window.__xss=2>",
    }
    assert page.locator("table.sessions img").count() == 0
    assert page.evaluate("window.__xss") is None
    row = page.locator("tr.session", has_text=CHAT)
    assert "unpriced" in row.locator("td.cost").text_content()
    assert UNPRICED_MODEL in row.locator("td.models").text_content()
    (cookie,) = [c for c in page.context.cookies() if c["name"] == COOKIE_NAME]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert COOKIE_NAME not in page.evaluate("document.cookie")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "inspector-sessions.png", full_page=True)
    page.click(f"text={CHAT}")
    page.wait_for_url(f"**/sessions/{CHAT}")


def test_a_session_shows_its_tree_the_tool_error_and_each_events_json(
    page: Any, keyed: tuple[str, str]
) -> None:
    expect = _open_as_alpha(page, keyed, CHAT)
    tool = page.locator("li.kind-llm_message > ol.children > li.kind-tool_call")
    expect(tool).to_have_count(1)
    expect(tool.locator("> .error")).to_contain_text(TOOL_ERROR)
    expect(tool.locator(".failure-head")).to_contain_text(f"LookupError: {TOOL_ERROR}")
    traceback = tool.locator("details.traceback pre")
    expect(traceback).to_be_hidden()
    tool.locator("details.traceback summary").click()
    expect(traceback).to_contain_text("Traceback")
    json_view = tool.locator("> pre.json")
    expect(json_view).to_have_count(0)
    tool.locator("> .row").click()
    expect(json_view).to_be_visible()
    expect(json_view).to_contain_text('"exception_type": "LookupError"')
    expect(page.locator("li.kind-summary > .row .kind")).to_have_text("summary")
    expect(page.locator("li.kind-retrieval > .row .kind")).to_have_text("retrieval")
    expect(page.locator("#usage")).to_contain_text("unpriced")
    expect(page.locator("#usage figure").first).to_contain_text("gpt-4o-mini")
    expect(page.locator("#runs tr.run .status")).to_have_text("failed")  # its tool failed
    page.select_option("#prompt-form select[name=strategy]", "tool")
    page.click("#prompt-form button[type=submit]")
    expect(page.locator("#prompt li.role-tool")).not_to_have_count(0)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "inspector-session.png", full_page=True)


def test_a_phone_sized_window_never_scrolls_the_page_sideways(
    page: Any, keyed: tuple[str, str]
) -> None:
    """At 390 px an event's text keeps a readable line of its own, and the page as a whole
    fits the window."""
    page.set_viewport_size({"width": 390, "height": 844})
    expect = _open_as_alpha(page, keyed, CHAT)
    expect(page.locator("#usage figure").first).to_contain_text("gpt-4o-mini")
    fits = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    assert page.evaluate(fits)
    label = page.locator("li.kind-tool_call > .row .label").first
    assert label.bounding_box()["width"] > 250  # not squeezed beside the event's details
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "inspector-session-narrow.png", full_page=True)
    page.goto(keyed[0] + "/")
    expect(page.locator("table.sessions td.id a").first).to_be_visible()
    assert page.evaluate(fits)
    page.screenshot(path=ARTIFACTS / "inspector-sessions-narrow.png", full_page=True)


def test_chat_text_that_looks_like_html_renders_literally(
    page: Any, keyed: tuple[str, str]
) -> None:
    expect = _open_as_alpha(page, keyed, CHAT)
    labels = page.locator("#tree .label")
    expect(labels.filter(has_text=SCRIPT_TEXT)).to_have_count(1)
    assert SCRIPT_TEXT in labels.all_text_contents()
    assert IMG_TEXT in labels.all_text_contents()
    page.locator("#tree li.kind-user_message > .row").first.click()
    expect(page.locator("#tree pre.json").first).to_contain_text(SCRIPT_TEXT)
    assert page.locator("#tree img, #tree script").count() == 0
    assert page.evaluate("window.__xss") is None
    assert page.dialogs == []


def test_a_live_event_appears_without_a_reload(page: Any, keyed: tuple[str, str]) -> None:
    expect = _open_as_alpha(page, keyed, CHAT)
    store_url = keyed[1]
    expect(page.locator("#live")).to_have_text("live")
    page.evaluate("window.__same_page = true")
    text = "appended by another writer <b>not bold</b>"
    run(_append(store_url, CHAT, text))
    arrived = page.locator("#tree > li.kind-user_message .label", has_text=text)
    expect(arrived).to_have_count(1)
    assert arrived.text_content() == text
    assert page.evaluate("window.__same_page") is True
    assert page.locator("#tree b").count() == 0


def test_the_first_event_of_an_empty_session_arrives_live(
    page: Any, keyed: tuple[str, str]
) -> None:
    expect = _open_as_alpha(page, keyed, EMPTY)
    expect(page.locator("#no-events")).to_have_text("No events yet.")
    expect(page.locator("#live")).to_have_text("live")
    run(_append(keyed[1], EMPTY, "the very first message"))
    expect(page.locator("#tree .label")).to_have_text(["the very first message"])
    expect(page.locator("#no-events")).to_have_count(0)
    expect(page.locator("#usage")).to_contain_text("0 tokens")


def test_older_events_load_as_the_reader_scrolls_up(page: Any, keyed: tuple[str, str]) -> None:
    expect = _open_as_alpha(page, keyed, LONG)
    rows = page.locator("#tree li.node")
    expect(rows).to_have_count(100)
    expect(rows.last.locator(".label")).to_have_text(f"message number {LONG_EVENTS - 1}")
    for shown in (200, LONG_EVENTS):
        page.evaluate("window.scrollTo(0, 0)")
        expect(rows).to_have_count(shown)
    expect(rows.first.locator(".label")).to_have_text("message number 0")
    expect(page.locator("#older")).to_be_hidden()


def test_a_second_tenant_sees_none_of_the_first_tenants_sessions(
    page: Any, keyed: tuple[str, str]
) -> None:
    base_url, _ = keyed
    sign_in(page, base_url, KEY_B)
    assert page.locator("table.sessions td.id a").all_text_contents() == ["beta.private"]
    response = page.goto(f"{base_url}/sessions/{CHAT}")
    assert response.status == 404
    api = page.request.get(f"{base_url}/inspector/api/sessions/{CHAT}/events")
    assert api.status == 404


def test_fork_opens_the_new_session(page: Any, keyed: tuple[str, str]) -> None:
    expect = _open_as_alpha(page, keyed, CHAT)
    expect(page.locator("#tree li.node").first).to_be_visible()
    page.accept_dialogs = True
    with page.expect_navigation():
        page.click("#fork")
    assert "/sessions/alpha.sess_" in page.url
    expect(page.locator("#tree .label", has_text=SCRIPT_TEXT)).to_have_count(1)


def test_without_keys_the_segments_read_as_one_conversation(
    page: Any, keyless: tuple[str, list[str]]
) -> None:
    expect = waiting_expect()
    base_url, segments = keyless
    first, newest = segments
    page.goto(f"{base_url}/sessions/{newest}")  # no sign-in without keys
    expect(page.locator("#position")).to_contain_text("Segment 2 of 2")
    expect(page.locator("#older")).to_be_visible()
    page.click("#older")
    boundary = page.locator("li.segment-boundary", has_text="segment 2 of 2 begins")
    expect(boundary).to_have_count(1)
    expect(boundary.locator("a")).to_have_text(newest)
    expect(page.locator("li.segment-boundary", has_text="segment 1 of 2 begins")).to_have_count(1)
    first_text = page.locator("#tree > li.node").first.locator(".label")
    expect(first_text).to_have_text("What's the weather in Tokyo, and what is 15.5 × 23.2?")
    expect(page.locator("li.kind-tool_call.status-error .failure-head").first).to_contain_text(
        "LookupError"
    )
    page.goto(f"{base_url}/sessions/{first}")
    expect(page.locator("#next-segment a")).to_have_text(newest)
