"""The inspector's pages over HTTP (in process): sign-in and its cookie, tenants, the headers,
the sessions list with its filters and pages, the event pages and the prompt by strategy."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from inspector_seed import TOOL_ERROR, UNPRICED_MODEL, put_dated_session, record_conversation
from server_helpers import KEY_A, KEY_B

from llm_sessions.cli.demo import run_demo
from llm_sessions.server import create_app
from llm_sessions.server.inspector.assets import asset_url
from llm_sessions.server.inspector.key_cookie import COOKIE_NAME, CSRF_HEADER, CSRF_VALUE
from llm_sessions.server.inspector.listing import PAGE_SIZE
from llm_sessions.server.inspector.pages import SECURITY_HEADERS
from llm_sessions.storage import InMemorySessionStore


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client with no Authorization header, as a browser is."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield http


async def _sign_in(http: httpx.AsyncClient, key: str) -> httpx.Response:
    return await http.post(
        "/login",
        content=f"key={key}&next=%2F",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def _ids_listed(page: str) -> list[str]:
    return re.findall(r'<td class="id"><a href="[^"]*">([^<]*)</a>', page)


async def test_without_keys_the_inspector_opens_directly(
    memory_store: InMemorySessionStore,
) -> None:
    await put_dated_session(memory_store, "plain", days_ago=0)
    app = create_app(memory_store)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        listing = await http.get("/")
        assert listing.status_code == 200 and _ids_listed(listing.text) == ["plain"]
        assert (await http.get("/sessions/plain")).status_code == 200
        login = await http.get("/login")
        assert login.status_code == 303 and login.headers["location"] == "/"


async def test_with_keys_a_page_asks_for_a_key_first(browser: httpx.AsyncClient) -> None:
    response = await browser.get("/sessions/alpha.chat?x=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fsessions%2Falpha.chat%3Fx%3D1"
    form = await browser.get(response.headers["location"])
    assert form.status_code == 200 and 'name="key"' in form.text
    assert 'value="/sessions/alpha.chat?x=1"' in form.text


async def test_signing_in_keeps_the_key_in_an_httponly_strict_cookie(
    browser: httpx.AsyncClient,
) -> None:
    response = await _sign_in(browser, KEY_A)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http: a Secure cookie would never come back
    assert (await browser.get("/")).status_code == 200


async def test_over_https_the_cookie_is_secure(app: FastAPI) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://testserver"
    ) as http:
        response = await _sign_in(http, KEY_A)
    assert "Secure" in response.headers["set-cookie"]


async def test_a_wrong_key_is_refused_without_a_cookie(browser: httpx.AsyncClient) -> None:
    response = await _sign_in(browser, "not-a-key-of-this-server")
    assert response.status_code == 401 and "set-cookie" not in response.headers
    assert "not one of this server&#x27;s keys" in response.text
    assert (await browser.get("/")).status_code == 303


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil"])
async def test_sign_in_never_redirects_off_the_server(
    browser: httpx.AsyncClient, target: str
) -> None:
    response = await browser.post(
        "/login",
        data={"key": KEY_A, "next": target},
    )
    assert response.status_code == 303 and response.headers["location"] == "/"


async def test_logging_out_removes_the_cookie(browser: httpx.AsyncClient) -> None:
    await _sign_in(browser, KEY_A)
    response = await browser.post("/logout")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert (await browser.get("/")).status_code == 303


async def test_a_tenant_sees_only_its_own_sessions(
    browser: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    await put_dated_session(memory_store, "alpha.mine", days_ago=0)
    await put_dated_session(memory_store, "beta.theirs", days_ago=0)
    await put_dated_session(memory_store, "unscoped", days_ago=0)
    await _sign_in(browser, KEY_A)
    assert _ids_listed((await browser.get("/")).text) == ["alpha.mine"]
    assert (await browser.get("/sessions/alpha.mine")).status_code == 200
    for path in (
        "/sessions/beta.theirs",
        "/sessions/unscoped",
        "/v1/sessions/beta.theirs",
        "/inspector/api/sessions/beta.theirs/events",
    ):
        assert (await browser.get(path)).status_code == 404, path
    await _sign_in(browser, KEY_B)
    assert _ids_listed((await browser.get("/")).text) == ["beta.theirs"]
    assert (await browser.get("/sessions/alpha.mine")).status_code == 404


async def test_the_cookie_authenticates_the_json_api_and_a_change_needs_the_csrf_header(
    browser: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    await put_dated_session(memory_store, "alpha.source", days_ago=0)
    assert (await browser.get("/v1/sessions/alpha.source")).status_code == 401
    await _sign_in(browser, KEY_A)
    assert (await browser.get("/v1/sessions/alpha.source")).status_code == 200
    forged = await browser.post("/v1/sessions/alpha.source/fork", json={})
    assert forged.status_code == 401
    assert await memory_store.list_sessions("alpha.") == ["alpha.source"]
    forked = await browser.post(
        "/v1/sessions/alpha.source/fork", json={}, headers={CSRF_HEADER: CSRF_VALUE}
    )
    assert forked.status_code == 200 and forked.json()["id"].startswith("alpha.")


@pytest.mark.parametrize(
    "path", ["/", "/login", "/sessions/alpha.x", "/inspector/assets/inspector.js"]
)
async def test_every_inspector_response_forbids_inline_scripts(
    browser: httpx.AsyncClient, memory_store: InMemorySessionStore, path: str
) -> None:
    await put_dated_session(memory_store, "alpha.x", days_ago=0)
    await _sign_in(browser, KEY_A)
    response = await browser.get(path, follow_redirects=False)
    assert response.status_code in (200, 303)
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_pages_have_no_inline_script_or_style(
    browser: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    await record_conversation(memory_store, "alpha.chat")
    await _sign_in(browser, KEY_A)
    pages_js = f' src="{asset_url("pages.js")}" defer'
    for path, wanted in (
        ("/", [(pages_js, "")]),
        ("/login", [(pages_js, "")]),
        (
            "/sessions/alpha.chat",
            [(pages_js, ""), (f' src="{asset_url("inspector.js")}" defer', "")],
        ),
    ):
        page = (await browser.get(path)).text
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.DOTALL)
        assert scripts == wanted, path
        assert "style=" not in page and "<style" not in page and " on" not in page.lower()


async def test_the_assets_are_served_with_their_types(browser: httpx.AsyncClient) -> None:
    script = await browser.get("/inspector/assets/inspector.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith(
        "text/javascript"
    )
    assert "EventSource" in script.text and "innerHTML" not in script.text
    css = await browser.get("/inspector/assets/inspector.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert (await browser.get("/inspector/assets/app.py")).status_code == 404
    pages_js = await browser.get("/inspector/assets/pages.js")
    assert "button.copy" in pages_js.text and "innerHTML" not in pages_js.text


async def test_an_asset_asked_for_by_its_version_may_be_kept(browser: httpx.AsyncClient) -> None:
    url = asset_url("inspector.css")
    assert "?v=" in url
    kept = await browser.get(url)
    assert kept.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert kept.headers["content-security-policy"] == SECURITY_HEADERS["Content-Security-Policy"]
    for stale in ("/inspector/assets/inspector.css", "/inspector/assets/inspector.css?v=old"):
        response = await browser.get(stale)
        assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
        assert response.content == kept.content


async def test_the_icon_is_served_to_a_browser_not_signed_in(browser: httpx.AsyncClient) -> None:
    icon = await browser.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content.startswith(b"\x00\x00\x01\x00")  # an ICO file's header
    assert icon.headers["content-security-policy"] == SECURITY_HEADERS["Content-Security-Policy"]
    login = (await browser.get("/login")).text
    assert '<link rel="icon" href="/favicon.ico" type="image/x-icon">' in login


async def test_the_list_is_newest_first_with_tokens_cost_and_models(
    browser: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    await put_dated_session(memory_store, "alpha.old", days_ago=3)
    await put_dated_session(memory_store, "alpha.new", days_ago=0, model=UNPRICED_MODEL)
    await put_dated_session(memory_store, "alpha.mid", days_ago=1)
    await _sign_in(browser, KEY_A)
    page = (await browser.get("/")).text
    assert _ids_listed(page) == ["alpha.new", "alpha.mid", "alpha.old"]
    rows = re.findall(r'<tr class="session">(.*?)</tr>', page)
    assert f'0.000000 + unpriced<span class="unpriced"> ({UNPRICED_MODEL})</span>' in rows[0]
    assert f'<td class="models"><span class="model">{UNPRICED_MODEL}</span></td>' in rows[0]
    assert re.search(r'<td class="num cost">0\.0000\d\d</td>', rows[1])
    assert "unpriced" not in rows[1] and "gpt-4o-mini" in rows[1]


async def test_the_filters_select_by_prefix_dates_and_model(
    browser: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    await put_dated_session(memory_store, "alpha.a-old", days_ago=10)
    await put_dated_session(memory_store, "alpha.a-new", days_ago=0, model=UNPRICED_MODEL)
    await put_dated_session(memory_store, "alpha.b-mid", days_ago=5)
    await _sign_in(browser, KEY_A)

    async def listed(**query: str) -> list[str]:
        response = await browser.get("/", params=query)
        assert response.status_code == 200
        return _ids_listed(response.text)

    from datetime import UTC, datetime, timedelta

    def day(days_ago: int) -> str:
        return (datetime.now(UTC) - timedelta(days=days_ago)).date().isoformat()

    assert await listed(prefix="a-") == ["alpha.a-new", "alpha.a-old"]
    assert await listed(since=day(6), until=day(4)) == ["alpha.b-mid"]
    assert await listed(since=day(6)) == ["alpha.a-new", "alpha.b-mid"]
    assert await listed(until=day(6)) == ["alpha.a-old"]
    assert await listed(model=UNPRICED_MODEL) == ["alpha.a-new"]
    assert await listed(model="gpt-4o-mini", prefix="b") == ["alpha.b-mid"]


async def test_the_list_comes_in_pages_that_follow_cursors_both_ways(
    browser: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    for number in range(PAGE_SIZE + 3):
        await put_dated_session(memory_store, f"alpha.s{number:03d}", days_ago=number)
    await _sign_in(browser, KEY_A)

    def link(page: str, rel: str) -> str | None:
        found = re.search(rf'<a href="/\?([^"]*)" rel="{rel}">', page)
        return html.unescape(found.group(1)) if found else None

    first = (await browser.get("/")).text
    assert _ids_listed(first) == [f"alpha.s{n:03d}" for n in range(PAGE_SIZE)]
    assert link(first, "prev") is None
    following = link(first, "next")
    assert following is not None
    second = (await browser.get(f"/?{following}")).text
    assert _ids_listed(second) == [f"alpha.s{n:03d}" for n in range(PAGE_SIZE, PAGE_SIZE + 3)]
    assert link(second, "next") is None
    # Newer sessions written meanwhile do not shift the pages: the previous one is read back
    # from the first row of this one.
    await put_dated_session(memory_store, "alpha.newer", days_ago=0)
    back = link(second, "prev")
    assert back is not None and "before=" in back
    previous = (await browser.get(f"/?{back}")).text
    assert _ids_listed(previous) == _ids_listed(first)
    assert link(previous, "prev") is not None and link(previous, "first") is not None
    assert _ids_listed((await browser.get("/")).text)[0] == "alpha.newer"
    filtered = (await browser.get(f"/?{following}&model=gpt-4o-mini")).text
    assert _ids_listed(filtered) == _ids_listed(second)


@pytest.mark.parametrize(
    ("query", "named"),
    [
        (
            {"since": "2024-13-01"},
            "since='2024-13-01' is invalid: must be a date written YYYY-MM-DD",
        ),
        ({"until": "yesterday"}, "until='yesterday' is invalid: must be a date written YYYY-MM-DD"),
        ({"since": "2024-05-02", "until": "2024-05-01"}, "until='2024-05-01'"),
        ({"after": "page-2"}, "after='page-2' is invalid: is not a cursor of this page"),
        ({"before": "x.y"}, "before='x.y' is invalid: is not a cursor of this page"),
        ({"order": "price"}, "order='price' is invalid: is not a sort key"),
        ({"min_cost": "cheap"}, "min_cost='cheap' is invalid: must be a number of US dollars"),
        ({"min_cost": "-1"}, "min_cost='-1' is invalid: must be a number of US dollars"),
    ],
)
async def test_bad_filter_values_are_named_on_the_page(
    browser: httpx.AsyncClient,
    memory_store: InMemorySessionStore,
    query: dict[str, str],
    named: str,
) -> None:
    await put_dated_session(memory_store, "alpha.kept", days_ago=0)
    await _sign_in(browser, KEY_A)
    response = await browser.get("/", params=query)
    assert response.status_code == 422
    assert named.replace("'", "&#x27;") in response.text
    assert _ids_listed(response.text) == []
    assert await memory_store.list_sessions() == ["alpha.kept"]


async def test_the_event_pages_carry_the_tree_and_each_event(
    browser: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    await record_conversation(memory_store, "alpha.chat")
    session = await memory_store.get("alpha.chat")
    assert session is not None
    ids = [event.id for event in session.events]
    await _sign_in(browser, KEY_A)
    url = "/inspector/api/sessions/alpha.chat/events"
    whole = (await browser.get(url)).json()
    assert [node["kind"] for node in whole["nodes"]] == [
        "user_message",
        "llm_message",
        "llm_message",
        "summary",
        "retrieval",
    ]
    tool = whole["nodes"][1]["children"][0]
    assert tool["kind"] == "tool_call" and tool["status"] == "error"
    assert TOOL_ERROR in tool["error"]
    (failure,) = tool["failures"]
    assert failure["exception_type"] == "LookupError" and "Traceback" in failure["traceback"]
    assert whole["first_id"] == ids[0] and whole["last_id"] == ids[-1]
    assert not whole["has_more"]

    newest = (await browser.get(url, params={"limit": 2})).json()
    assert [node["id"] for node in newest["nodes"]] == ids[-2:] and newest["has_more"]
    older = (await browser.get(url, params={"limit": 3, "before": ids[-2]})).json()
    assert older["first_id"] == ids[1] and older["last_id"] == ids[3] and older["has_more"]
    # A tool call whose reply is on an older page comes as a root that names its parent.
    alone = (await browser.get(url, params={"limit": 1, "before": ids[3]})).json()
    assert [node["id"] for node in alone["nodes"]] == [ids[2]]
    assert alone["nodes"][0]["event"]["parent_event_id"] == ids[1]
    after = (await browser.get(url, params={"after": ids[-3]})).json()
    assert [node["id"] for node in after["nodes"]] == ids[-2:] and not after["has_more"]
    unknown = await browser.get(url, params={"before": "no-such-event"})
    assert unknown.status_code == 422 and unknown.json()["error"]["param"] == "before"
    assert "before='no-such-event' is not an event" in unknown.json()["error"]["message"]
    unknown = await browser.get(url, params={"after": "no-such-event"})
    assert unknown.status_code == 422 and unknown.json()["error"]["param"] == "after"


async def test_the_prompt_can_be_built_by_a_strategy(
    browser: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    await record_conversation(memory_store, "alpha.chat")
    await _sign_in(browser, KEY_A)
    url = "/v1/sessions/alpha.chat/prompt"
    default = (await browser.get(url)).json()
    tool_focused = (await browser.get(url, params={"strategy": "tool"})).json()
    assert default != tool_focused
    assert any(message["role"] == "tool" for message in tool_focused)
    bad = await browser.get(url, params={"strategy": "everything"})
    assert bad.status_code == 422 and bad.json()["error"]["param"] == "strategy"


async def test_the_overview_is_the_runs_cost_and_segments_of_one_read(
    browser: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    await record_conversation(memory_store, "alpha.chat")
    await put_dated_session(memory_store, "beta.theirs", days_ago=0)
    await _sign_in(browser, KEY_A)
    overview = (await browser.get("/inspector/api/sessions/alpha.chat/overview")).json()
    assert overview["cost"] == (await browser.get("/v1/sessions/alpha.chat/cost")).json()
    assert overview["runs"] == (await browser.get("/v1/sessions/alpha.chat/runs")).json()
    assert [run["status"] for run in overview["runs"]] == ["failed"]
    assert overview["segments"] == ["alpha.chat"]
    assert UNPRICED_MODEL in overview["cost"]["total"]["unpriced_models"]
    other = await browser.get("/inspector/api/sessions/beta.theirs/overview")
    assert other.status_code == 404
    assert overview["forked_from"] is None


async def test_a_forks_overview_names_the_session_and_event_it_was_forked_at(
    browser: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    await record_conversation(memory_store, "alpha.chat")
    await _sign_in(browser, KEY_A)
    original = await memory_store.get("alpha.chat")
    assert original is not None
    at = original.events[1].id
    fork = await browser.post(
        "/v1/sessions/alpha.chat/fork", json={"at_event_id": at}, headers={CSRF_HEADER: CSRF_VALUE}
    )
    url = f"/inspector/api/sessions/{fork.json()['id']}/overview"
    overview = (await browser.get(url)).json()
    assert overview["forked_from"] == {"session_id": "alpha.chat", "event_id": at}
    original.metadata.properties["forked_from"] = "not the shape a fork writes"
    await memory_store.save(original)
    overview = (await browser.get("/inspector/api/sessions/alpha.chat/overview")).json()
    assert overview["forked_from"] is None


async def test_a_conversations_segments_are_one_row_with_its_totals(
    memory_store: InMemorySessionStore,
) -> None:
    first, newest = (await run_demo(memory_store)).segments
    await put_dated_session(memory_store, "plain", days_ago=1)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(memory_store)), base_url="http://testserver"
    ) as http:
        page = (await http.get("/")).text
        assert _ids_listed(page) == [newest.id, "plain"]
        row = re.findall(r'<tr class="session">(.*?)</tr>', page)[0]
        assert "<summary>2 segments</summary>" in row
        assert re.findall(r'<li><a href="/sessions/([^"]*)">', row) == [first.id, newest.id]
        events = len(first.events) + len(newest.events)
        assert f'<td class="num event-count">{events}<span class="unit"> events' in row
        tokens = first.token_summary.total_tokens + newest.token_summary.total_tokens
        assert f'<td class="num token-count">{tokens}<span class="unit"> tokens' in row
        plain = re.findall(r'<tr class="session">(.*?)</tr>', page)[1]
        assert "segments" not in plain
        assert (await http.get(f"/sessions/{first.id}")).status_code == 200
