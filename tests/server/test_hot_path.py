"""The item appends and pages answered before the middleware (``hot_path``): what they answer
is what the whole app answers, errors included, and anything unusual goes through the app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from server_helpers import KEY_A, KEYS
from starlette.types import ASGIApp, Receive, Scope, Send

from llm_sessions.exceptions import StorageError
from llm_sessions.server import ApiKeys, create_app
from llm_sessions.server import hot_path as hot_path_module
from llm_sessions.server.hot_path import ITEMS_TEMPLATE, HotPathApp
from llm_sessions.storage import open_store

ITEM = {"type": "message", "role": "user", "content": "hello"}
SKIPPED = ("x-request-id", "date")


@pytest.fixture
async def apps(tmp_path: Path) -> AsyncIterator[tuple[FastAPI, FastAPI]]:
    """Two apps over one SQLite store: the first takes the hot path, the second never."""
    store = open_store(f"sqlite:///{tmp_path / 'hot.db'}")
    hot = create_app(store, ApiKeys(KEYS), max_body_bytes=2000)
    whole = create_app(store, ApiKeys(KEYS), max_body_bytes=2000)
    assert isinstance(whole, HotPathApp)
    whole._own_middleware = None  # as if middleware had been added since
    yield hot, whole
    await store.close()


def _client(app: ASGIApp, **options: Any) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, **options)
    headers = {"Authorization": f"Bearer {KEY_A}"}
    return httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers)


def _served(response: httpx.Response) -> tuple[int, list[tuple[str, str]]]:
    headers = [(k, v) for k, v in response.headers.items() if k not in SKIPPED]
    return response.status_code, headers


async def _both(
    apps: tuple[FastAPI, FastAPI], answered: list[str]
) -> tuple[list[httpx.Response], list[int]]:
    """The same four requests through each app, the hot one first: their answers in that
    order, and how many of each app's the hot path answered."""
    answers: list[httpx.Response] = []
    counts = []
    async with _client(apps[0]) as first, _client(apps[1]) as second:
        conversation = (await first.post("/v1/conversations", json={})).json()["id"]
        path = f"/v1/conversations/{conversation}/items"
        for client in (first, second):
            answered.clear()
            answers.append(await client.post(path, json={"items": [ITEM]}))
            answers.append(await client.get(path, params={"limit": 1, "order": "asc"}))
            absent = "/v1/conversations/alpha.conv_absent/items"
            answers.append(await client.post(absent, json={"items": [ITEM]}))
            answers.append(await client.get(path, params={"after": "msg_nothing"}))
            counts.append(len(answered))
    return answers, counts


async def test_the_client_request_id_comes_back(apps: tuple[FastAPI, FastAPI]) -> None:
    async with _client(apps[0]) as client:
        conversation = (await client.post("/v1/conversations", json={})).json()["id"]
        answer = await client.get(
            f"/v1/conversations/{conversation}/items", headers={"X-Request-Id": "trace-7"}
        )
    assert answer.status_code == 200
    assert answer.headers["x-request-id"] == "trace-7"


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (b'{"items": [', {"Content-Type": "application/json"}, 400, "invalid_json"),
        (b'{"items": [{"type": "message"}]}', {"Content-Type": "application/json"}, 422, None),
        (b'{"items": []}', {"Content-Type": "text/plain"}, 422, None),
        (b'{"items": ["' + b"x" * 3000 + b'"]}', {"Content-Type": "application/json"}, 413, None),
        (b'{"items": []}', {"Authorization": "Bearer wrong-key-wrong-key"}, 401, None),
    ],
)
async def test_a_request_that_is_not_plain_gets_the_whole_app_s_answer(
    apps: tuple[FastAPI, FastAPI], body: bytes, headers: dict[str, str], status: int, code: Any
) -> None:
    answers = []
    for app in apps:
        async with _client(app) as client:
            conversation = (await client.post("/v1/conversations", json={})).json()["id"]
            path = f"/v1/conversations/{conversation}/items"
            answers.append(await client.post(path, content=body, headers=headers))
    assert [answer.status_code for answer in answers] == [status, status]
    assert answers[0].json() == answers[1].json()
    assert _served(answers[0]) == _served(answers[1])
    if code is not None:
        assert answers[0].json()["error"]["code"] == code


async def test_a_streamed_body_over_the_limit_is_a_413(apps: tuple[FastAPI, FastAPI]) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"items": [{"type": "message", "role": "user", "content": "'
        for _ in range(30):
            yield b"x" * 100
        yield b'"}]}'

    async with _client(apps[0]) as client:
        conversation = (await client.post("/v1/conversations", json={})).json()["id"]
        path = f"/v1/conversations/{conversation}/items"
        headers = {"Content-Type": "application/json"}
        answer = await client.post(path, content=chunks(), headers=headers)
        assert answer.status_code == 413
        assert answer.json()["error"]["code"] == "payload_too_large"
        assert (await client.get(path)).json()["data"] == []


async def test_a_store_error_is_a_503_counted_in_the_metrics(
    apps: tuple[FastAPI, FastAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _client(apps[0]) as client:
        conversation = (await client.post("/v1/conversations", json={})).json()["id"]

        async def unreachable(*args: Any, **kwargs: Any) -> Any:
            raise StorageError("down")

        monkeypatch.setattr(hot_path_module, "append_items", unreachable)
        answer = await client.post(
            f"/v1/conversations/{conversation}/items", json={"items": [ITEM]}
        )
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "1"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert apps[0].state.llm_sessions.metrics.store_errors == 1


async def test_an_unexpected_error_is_a_500_and_raised_again(
    apps: tuple[FastAPI, FastAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(hot_path_module, "items_page", broken)
    async with _client(apps[0], raise_app_exceptions=False) as client:
        conversation = (await client.post("/v1/conversations", json={})).json()["id"]
        answer = await client.get(f"/v1/conversations/{conversation}/items")
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "internal_error"
    assert answer.headers["x-request-id"]
    rendered = apps[0].state.llm_sessions.metrics.render()
    assert f'method="GET",route="{ITEMS_TEMPLATE}",status="500"' in rendered
    with pytest.raises(ZeroDivisionError):
        async with _client(apps[0]) as client:
            await client.get(f"/v1/conversations/{conversation}/items")


async def test_middleware_added_after_create_app_sees_the_hot_routes(tmp_path: Path) -> None:
    seen: list[str] = []

    class Noting:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                seen.append(f"{scope['method']} {scope['path']}")
            await self.app(scope, receive, send)

    app = create_app(f"sqlite:///{tmp_path / 'noted.db'}", ApiKeys(KEYS))
    app.add_middleware(Noting)
    async with app.router.lifespan_context(app), _client(app) as client:
        conversation = (await client.post("/v1/conversations", json={})).json()["id"]
        path = f"/v1/conversations/{conversation}/items"
        assert (await client.post(path, json={"items": [ITEM]})).status_code == 200
        assert (await client.get(path)).status_code == 200
    assert seen[1:] == [f"POST {path}", f"GET {path}"]
