"""A fork over HTTP is the fork ``SessionManager.fork`` makes: same parent, same properties, same
events, on a plain session and across the segments of an infinite conversation.

The server here has no keys (one tenant, the whole store), as on loopback: the library names new
segments with bare UUIDs, outside any tenant's prefix.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from llm_sessions import SessionManager
from llm_sessions.api.forks import FORKED_FROM
from llm_sessions.models.session import Session
from llm_sessions.server import create_app
from llm_sessions.storage import InMemorySessionStore


@pytest.fixture
async def client(memory_store: InMemorySessionStore) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a server without keys over ``memory_store``."""
    transport = httpx.ASGITransport(app=create_app(memory_store))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def _conversation(store: InMemorySessionStore, session_id: str, infinite: bool) -> list[str]:
    """Three exchanges under ``session_id``; returns the ids of its segments, root first."""
    sm = SessionManager(session_id, infinite_context=infinite, token_threshold=0, store=store)
    for number in range(3):
        await sm.user_says(f"q{number}")
        await sm.ai_responds(f"a{number}", model="gpt-4o-mini")
    chain = await sm.get_session_chain()
    for segment_id in chain:
        segment = await store.get(segment_id)
        assert segment is not None
        segment.metadata.properties["team"] = "a"
        await store.save(segment)
    return chain


def _structure(fork: Session[Any]) -> dict[str, Any]:
    """What a fork is, apart from its own id and timestamps."""
    return {
        "parent_id": fork.parent_id,
        "properties": fork.metadata.properties,
        "state": fork.state,
        "events": [(event.id, event.type, event.source, event.message) for event in fork.events],
    }


async def _forks(
    store: InMemorySessionStore,
    client: httpx.AsyncClient,
    root: str,
    at: str | None,
    infinite: bool = True,
) -> tuple[Session[Any], Session[Any]]:
    """(the fork ``SessionManager.fork`` makes, the fork the HTTP route makes) at event ``at``."""
    sm = SessionManager(root, store=store, create=False, infinite_context=infinite)
    by_python = await (await sm.fork(at, session_id="by-python")).get_session()
    tip = (await sm.get_session_chain())[-1]
    response = await client.post(f"/v1/sessions/{tip}/fork", json={"at_event_id": at})
    assert response.status_code == 200, response.text
    by_http = await store.get(response.json()["id"])
    assert by_http is not None
    return by_python, by_http


@pytest.mark.parametrize("infinite", [False, True])
async def test_http_fork_and_python_fork_are_one_fork(
    memory_store: InMemorySessionStore, client: httpx.AsyncClient, infinite: bool
) -> None:
    chain = await _conversation(memory_store, "talk", infinite)
    assert len(chain) == (3 if infinite else 1)
    middle = await memory_store.get(chain[len(chain) // 2])
    assert middle is not None
    at = next(event for event in middle.events if event.message == "a1")

    by_python, by_http = await _forks(memory_store, client, "talk", at.id, infinite)

    assert _structure(by_http) == _structure(by_python)
    assert by_http.parent_id == middle.id
    assert by_http.metadata.properties == {
        "team": "a",
        FORKED_FROM: {"session_id": middle.id, "event_id": at.id},
    }
    assert [event.message for event in by_http.events if event.message] == ["q0", "a0", "q1", "a1"]


async def test_a_fork_of_the_whole_chain_names_the_last_segment_and_event(
    memory_store: InMemorySessionStore, client: httpx.AsyncClient
) -> None:
    chain = await _conversation(memory_store, "long", infinite=True)

    by_python, by_http = await _forks(memory_store, client, "long", None)

    assert _structure(by_http) == _structure(by_python)
    tip = await memory_store.get(chain[-1])
    assert tip is not None
    assert by_http.parent_id == tip.id
    assert by_http.metadata.properties[FORKED_FROM] == {
        "session_id": tip.id,
        "event_id": tip.events[-1].id,
    }
    messages = [event.message for event in by_http.events if event.message]
    assert messages == ["q0", "a0", "q1", "a1", "q2", "a2"]


async def test_a_fork_of_an_earlier_segment_ends_with_that_segment(
    memory_store: InMemorySessionStore, client: httpx.AsyncClient
) -> None:
    chain = await _conversation(memory_store, "early", infinite=True)

    response = await client.post(f"/v1/sessions/{chain[1]}/fork", json={})

    assert response.status_code == 200, response.text
    fork = response.json()
    assert fork["parent_id"] == chain[1]
    forked = await memory_store.get(fork["id"])
    assert forked is not None
    assert [event.message for event in forked.events if event.message] == ["q0", "a0", "q1", "a1"]
