"""``Idempotency-Key`` on every create and append route: a repeat writes nothing twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from server_helpers import Clock

from llm_sessions.server.idempotency import IDEMPOTENCY_SECONDS, Idempotency
from llm_sessions.storage import InMemorySessionStore
from llm_sessions.storage._side_records import SideRecords

Call = Callable[[httpx.AsyncClient, dict[str, str], int], Awaitable[httpx.Response]]


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    clock = Clock()
    app.state.llm_sessions.idempotency = Idempotency(clock=clock, lease_seconds=30)
    return clock


async def _new_session(client: httpx.AsyncClient) -> str:
    session_id: str = (await client.post("/v1/sessions", json={})).json()["id"]
    await client.post(f"/v1/sessions/{session_id}/events", json={"events": [{"message": "a"}]})
    return session_id


def _route(method_path: str, body: Callable[[int], dict[str, Any] | str]) -> Call:
    """A call of one route with the n-th body variant (the path may name ``{session}``)."""

    async def call(http: httpx.AsyncClient, headers: dict[str, str], n: int) -> httpx.Response:
        path = method_path.format(session=http.headers["x-test-session"])
        payload = body(n)
        if isinstance(payload, str):
            headers = {**headers, "Content-Type": "text/plain"}
            return await http.post(path, content=payload, headers=headers)
        return await http.post(path, json=payload, headers=headers)

    return call


ROUTES = {
    "create session": _route("/v1/sessions", lambda n: {"properties": {"n": n}}),
    "append events": _route(
        "/v1/sessions/{session}/events",
        lambda n: {"events": [{"message": f"m{n}"}, {"message": "x", "model": "gpt-4o"}]},
    ),
    "create conversation": _route(
        "/v1/conversations", lambda n: {"items": [{"role": "user", "content": f"c{n}"}]}
    ),
    "append items": _route(
        "/v1/conversations/{session}/items",
        lambda n: {"items": [{"role": "user", "content": f"i{n}"}]},
    ),
    "fork": _route("/v1/sessions/{session}/fork", lambda n: {} if n == 0 else {"at_event_id": "x"}),
    "import": _route(
        "/v1/sessions/import?format=openai", lambda n: f'[{{"role": "user", "content": "{n}"}}]'
    ),
}


async def _state(app: FastAPI) -> dict[str, int]:
    """Every session of the store and its number of events."""
    store = app.state.llm_sessions.store_source
    assert isinstance(store, InMemorySessionStore)
    counts = {}
    for session_id in await store.list_sessions():
        session = await store.get(session_id)
        assert session is not None
        counts[session_id] = len(session.events)
    return counts


@pytest.mark.parametrize("route", list(ROUTES))
async def test_a_repeat_returns_the_first_response_and_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient, clock: Clock, route: str
) -> None:
    client.headers["x-test-session"] = await _new_session(client)
    key = {"Idempotency-Key": "retry-" + route.replace(" ", "-")}
    first = await ROUTES[route](client, key, 0)
    assert first.status_code == 200, first.text
    written = await _state(app)
    clock.now += IDEMPOTENCY_SECONDS - 1
    again = await ROUTES[route](client, key, 0)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert await _state(app) == written

    other = await ROUTES[route](client, key, 1)
    error = other.json()["error"]
    assert other.status_code == 422 and error["code"] == "idempotency_key_reused"
    assert error["param"] == "Idempotency-Key"
    assert await _state(app) == written

    unkeyed = await ROUTES[route](client, {}, 0)
    assert unkeyed.status_code == 200 and unkeyed.json() != first.json()


async def test_a_key_is_per_tenant_and_forgotten_after_24_hours(
    app: FastAPI, client: httpx.AsyncClient, client_b: httpx.AsyncClient, clock: Clock
) -> None:
    key = {"Idempotency-Key": "shared-key"}
    mine = await client.post("/v1/sessions", json={}, headers=key)
    theirs = await client_b.post("/v1/sessions", json={}, headers=key)
    assert mine.json()["id"].startswith("alpha.") and theirs.json()["id"].startswith("beta.")
    clock.now += IDEMPOTENCY_SECONDS
    later = await client.post("/v1/sessions", json={}, headers=key)
    assert later.json()["id"] != mine.json()["id"]
    assert len(await _state(app)) == 3


class _FailingPut(SideRecords):
    """Records that take claims but fail to keep the response (a worker dying after its
    write), delegating the rest."""

    def __init__(self, inner: SideRecords) -> None:
        self.inner = inner

    async def claim(self, key: str, value: Any, expires_at: float, now: float) -> Any:
        return await self.inner.claim(key, value, expires_at, now)

    async def put(self, key: str, value: Any, expires_at: float) -> None:
        raise ConnectionError("gone before answering")

    async def get(self, key: str, now: float) -> Any:
        return await self.inner.get(key, now)

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)

    async def scan(self, prefix: str, now: float) -> Any:
        return await self.inner.scan(prefix, now)


@pytest.mark.parametrize("route", ["append events", "append items", "create conversation"])
async def test_a_retry_after_a_write_that_was_never_answered_finds_it(
    app: FastAPI, client: httpx.AsyncClient, clock: Clock, route: str
) -> None:
    client.headers["x-test-session"] = await _new_session(client)
    guard: Idempotency = app.state.llm_sessions.idempotency
    store = app.state.llm_sessions.store_source
    real = guard.records(store)
    guard._records[id(store)] = _FailingPut(real)
    key = {"Idempotency-Key": "unanswered"}
    lost = await ROUTES[route](client, key, 0)
    assert lost.status_code == 503  # written, but the answer was lost
    written = await _state(app)
    guard._records[id(store)] = real
    retried = await ROUTES[route](client, key, 0)
    assert retried.status_code == 200, retried.text
    assert await _state(app) == written
    assert (await ROUTES[route](client, key, 0)).json() == retried.json()


async def test_a_claim_that_wrote_nothing_is_in_use_until_its_lease_passes(
    app: FastAPI, client: httpx.AsyncClient, clock: Clock
) -> None:
    guard: Idempotency = app.state.llm_sessions.idempotency
    store = app.state.llm_sessions.store_source
    body = {"items": [{"role": "user", "content": "once"}]}
    first = await client.post("/v1/conversations", json=body, headers={"Idempotency-Key": "k"})
    record_key = next(iter(guard.records(store).records))  # type: ignore[attr-defined]
    record = await guard.records(store).get(record_key, clock.now)
    assert record is not None
    # As if the first attempt had died after its claim, before writing anything.
    await store.delete(first.json()["id"])
    pending = {**record, "state": "pending", "claimed_at": clock.now}
    await guard.records(store).put(record_key, pending, record["expires_at"])
    busy = await client.post("/v1/conversations", json=body, headers={"Idempotency-Key": "k"})
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "idempotency_key_in_use"
    assert await _state(app) == {}
    clock.now += 30
    taken = await client.post("/v1/conversations", json=body, headers={"Idempotency-Key": "k"})
    assert taken.status_code == 200
    assert list(await _state(app)) == [taken.json()["id"]]


async def test_a_malformed_key_is_422(client: httpx.AsyncClient) -> None:
    for bad in ("", "x" * 256, "has space"):
        response = await client.post("/v1/sessions", json={}, headers={"Idempotency-Key": bad})
        assert response.status_code == 422, bad
        assert response.json()["error"]["param"] == "Idempotency-Key"
