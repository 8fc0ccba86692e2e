"""The inspector's audit log page over HTTP (in process): read only, tenant-scoped, linked from
every page's nav, showing who, when, the filter and the counts, never content; and a tenant's
retention stays in its namespace."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from inspector_seed import put_dated_session
from server_helpers import KEY_A, KEY_B

from llm_sessions.exceptions import InvalidInputError
from llm_sessions.server import TenantStore
from llm_sessions.server.inspector.pages import SECURITY_HEADERS
from llm_sessions.storage import InMemorySessionStore, Retention


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield http


async def _sign_in(http: httpx.AsyncClient, key: str) -> None:
    response = await http.post("/login", data={"key": key, "next": "/"})
    assert response.status_code == 303


def _rows(page: str) -> list[list[str]]:
    body = page.split("<tbody>", 1)[1] if "<tbody>" in page else ""
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", cell))
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)
        ]
        for row in re.findall(r"<tr data-erasure[^>]*>(.*?)</tr>", body)
    ]


async def test_each_tenant_sees_its_own_erasures_newest_first(
    browser: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    for session_id in ("alpha.one", "alpha.two", "beta.one"):
        await put_dated_session(memory_store, session_id, days_ago=200)
    alpha, beta = TenantStore(memory_store, "alpha"), TenantStore(memory_store, "beta")
    await alpha.erase(session_ids=["alpha.one"], actor="dpo@example.com")
    await alpha.apply_retention(Retention(max_age="90d"))
    await beta.erase(session_ids=["beta.one"], actor="beta-admin")
    assert (await browser.get("/audit")).status_code == 303  # not signed in: to the login
    await _sign_in(browser, KEY_A)
    response = await browser.get("/audit")
    assert response.status_code == 200
    assert (
        response.headers["content-security-policy"] == SECURITY_HEADERS["Content-Security-Policy"]
    )
    rows = _rows(response.text)
    assert [row[1] for row in rows] == ["retention", "dpo@example.com"]
    assert '"retention": {"max_age": "90d"}' in rows[0][2] and '"prefix": "alpha."' in rows[0][2]
    assert rows[0][3:] == ["1", "1", "0", "0"]  # sessions, events, vectors, blobs
    assert "beta" not in response.text
    assert "<form" not in response.text.split("</header>", 1)[1]  # read only
    await _sign_in(browser, KEY_B)
    assert [row[1] for row in _rows((await browser.get("/audit")).text)] == ["beta-admin"]


async def test_every_page_links_to_the_audit_log(browser: httpx.AsyncClient) -> None:
    await _sign_in(browser, KEY_A)
    for path in ("/", "/search", "/usage", "/audit"):
        text = (await browser.get(path)).text
        nav = re.search(r'<nav class="sections"[^>]*>(.*?)</nav>', text)
        assert nav is not None and '<a href="/audit"' in nav.group(1), path
    assert '<a href="/audit" aria-current="page">' in (await browser.get("/audit")).text
    assert 'class="sections"' not in (await browser.get("/login")).text


async def test_no_erasure_yet_says_so(browser: httpx.AsyncClient) -> None:
    await _sign_in(browser, KEY_A)
    assert "No erasures recorded." in (await browser.get("/audit")).text


async def test_a_tenant_applies_retention_only_inside_its_namespace(
    memory_store: InMemorySessionStore,
) -> None:
    for session_id in ("alpha.old", "beta.old"):
        await put_dated_session(memory_store, session_id, days_ago=200)
    alpha = TenantStore(memory_store, "alpha")
    later = datetime.now(UTC) + timedelta(days=1)
    report = await alpha.apply_retention(Retention(max_age="90d"), now=later)
    assert report.erased_session_ids == ["alpha.old"]
    assert await memory_store.list_sessions() == ["beta.old"]
    with pytest.raises(InvalidInputError) as raised:
        await alpha.apply_retention(Retention(max_age="90d"), prefix="beta.")
    assert raised.value.field == "prefix"
    assert await memory_store.list_sessions() == ["beta.old"]
