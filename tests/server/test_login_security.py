"""Signing in to the inspector: no cross-site login or logout, a limit on failed logins, and a
cookie that holds a signed, expiring token instead of the key."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from server_helpers import KEY_A, KEY_B, KEYS, Clock

from llm_sessions.server import create_app
from llm_sessions.server.inspector.key_cookie import COOKIE_NAME
from llm_sessions.server.inspector.logins import (
    SESSION_SECRET_ENV,
    LoginLimiter,
    Logins,
    SessionTokens,
)
from llm_sessions.storage import InMemorySessionStore

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SECRET = "a-secret-shared-by-the-workers"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(memory_store: InMemorySessionStore, clock: Clock) -> FastAPI:
    app = create_app(memory_store, KEYS, session_secret=SECRET)
    app.state.llm_sessions.logins = Logins(
        SessionTokens(SECRET.encode(), lifetime_seconds=3600, clock=clock),
        LoginLimiter(max_failures=10, window_seconds=60, clock=clock),
    )
    return app


def _browser(app: FastAPI, address: str = "203.0.113.7") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 5000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with _browser(app) as http:
        yield http


async def _sign_in(
    http: httpx.AsyncClient, key: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await http.post(
        "/login", content=f"key={key}&next=%2F", headers={**FORM, **(headers or {})}
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "http://testserver"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://testserver"},
    ],
)
async def test_a_cross_site_login_is_refused(
    browser: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await _sign_in(browser, KEY_B, headers)
    assert response.status_code == 403
    assert "set-cookie" not in response.headers
    assert (await browser.get("/")).status_code == 303


async def test_a_same_origin_login_works(browser: httpx.AsyncClient) -> None:
    headers = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    response = await _sign_in(browser, KEY_A, headers)
    assert response.status_code == 303 and COOKIE_NAME in response.headers["set-cookie"]
    assert (await browser.get("/")).status_code == 200


async def test_a_cross_site_logout_is_refused(browser: httpx.AsyncClient) -> None:
    await _sign_in(browser, KEY_A)
    response = await browser.post("/logout", headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    assert (await browser.get("/")).status_code == 200


async def test_failed_logins_are_limited_per_address(app: FastAPI, clock: Clock) -> None:
    async with _browser(app, "198.51.100.1") as attacker, _browser(app, "198.51.100.2") as other:
        for _ in range(10):
            assert (await _sign_in(attacker, "wrong-key-0123456789")).status_code == 401
        limited = await _sign_in(attacker, KEY_A)
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "60"
        assert "set-cookie" not in limited.headers
        assert (await _sign_in(other, KEY_A)).status_code == 303
        clock.now += 30
        assert (await _sign_in(attacker, KEY_A)).headers["retry-after"] == "30"
        clock.now += 30
        assert (await _sign_in(attacker, KEY_A)).status_code == 303


async def test_the_cookie_holds_a_token_not_the_key(browser: httpx.AsyncClient) -> None:
    response = await _sign_in(browser, KEY_A)
    token = browser.cookies[COOKIE_NAME]
    assert KEY_A not in response.headers["set-cookie"]
    assert hashlib.sha256(KEY_A.encode()).hexdigest() not in token
    assert token.startswith("v1.")


async def _copy_of(app: FastAPI, token: str) -> httpx.AsyncClient:
    http = _browser(app, "192.0.2.9")
    http.cookies.set(COOKIE_NAME, token)
    return http


async def test_a_copied_cookie_stops_working_at_logout(
    app: FastAPI, browser: httpx.AsyncClient
) -> None:
    await _sign_in(browser, KEY_A)
    async with await _copy_of(app, browser.cookies[COOKIE_NAME]) as thief:
        assert (await thief.get("/v1/sessions")).status_code == 200
        logout = await browser.post("/logout", headers={"Origin": "http://testserver"})
        assert logout.status_code == 303
        assert (await thief.get("/v1/sessions")).status_code == 401
        assert (await thief.get("/")).status_code == 303


async def test_a_token_expires_and_cannot_be_forged(
    app: FastAPI, browser: httpx.AsyncClient, clock: Clock
) -> None:
    await _sign_in(browser, KEY_A)
    token = browser.cookies[COOKIE_NAME]
    version, body, signature = token.split(".")
    forged = f"{version}.{body[:-2]}AA.{signature}"
    async with await _copy_of(app, forged) as forger:
        assert (await forger.get("/v1/sessions")).status_code == 401
    other_app = create_app(InMemorySessionStore(), KEYS, session_secret="another-secret")
    async with await _copy_of(other_app, token) as elsewhere:
        assert (await elsewhere.get("/v1/sessions")).status_code == 401
    clock.now += 3599
    assert (await browser.get("/v1/sessions")).status_code == 200
    clock.now += 1
    assert (await browser.get("/v1/sessions")).status_code == 401


async def test_a_token_works_at_every_worker_with_the_same_secret(
    memory_store: InMemorySessionStore, browser: httpx.AsyncClient, clock: Clock
) -> None:
    await _sign_in(browser, KEY_A)
    worker = create_app(memory_store, KEYS, session_secret=SECRET)
    worker.state.llm_sessions.logins.tokens.clock = clock
    async with await _copy_of(worker, browser.cookies[COOKIE_NAME]) as same_user:
        assert (await same_user.get("/v1/sessions")).status_code == 200


async def test_a_token_stops_working_when_its_key_is_removed(
    memory_store: InMemorySessionStore, browser: httpx.AsyncClient, clock: Clock
) -> None:
    await _sign_in(browser, KEY_A)
    without_a = create_app(memory_store, {KEY_B: "beta"}, session_secret=SECRET)
    without_a.state.llm_sessions.logins.tokens.clock = clock
    async with await _copy_of(without_a, browser.cookies[COOKIE_NAME]) as stale:
        assert (await stale.get("/v1/sessions")).status_code == 401


def test_serve_hands_its_workers_one_session_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from llm_sessions.cli.main import app as cli
    from llm_sessions.server.app import app_from_environment

    started: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: started.append(kwargs))
    for name in (SESSION_SECRET_ENV, "LLM_SESSIONS_API_KEYS", "LLM_SESSIONS_STORE"):
        monkeypatch.setenv(name, "placeholder")  # restored after the test
        monkeypatch.delenv(name)
    monkeypatch.setenv("LLM_SESSIONS_API_KEYS", f"{KEY_A}=alpha")
    result = CliRunner().invoke(cli, ["serve", "--store", "memory://", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert started and started[0]["workers"] == 2
    secret = os.environ[SESSION_SECRET_ENV]
    assert len(secret) == 64
    one, two = app_from_environment(), app_from_environment()
    token = one.state.llm_sessions.logins.tokens.issue(KEY_A)
    assert two.state.llm_sessions.logins.tokens.check(token, two.state.llm_sessions.keys)
