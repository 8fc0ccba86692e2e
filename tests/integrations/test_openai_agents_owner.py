"""The Agents SDK session given a ``user_id`` and ``properties``: the session it creates has
them, so lists and totals across sessions find it; a session already stored keeps its own."""

from __future__ import annotations

import pytest

pytest.importorskip("agents")

from llm_sessions.exceptions import InvalidInputError
from llm_sessions.integrations.openai_agents import LLMSessionsSession
from llm_sessions.storage import InMemorySessionStore

ITEMS = [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "hi"}]


async def test_the_session_it_creates_has_the_user_and_properties() -> None:
    store = InMemorySessionStore()
    agent = LLMSessionsSession("agent", store=store, user_id="alice", properties={"team": "red"})
    await agent.add_items(ITEMS)

    page = await store.find_sessions(where={"user_id": "alice", "team": "red"})
    totals = await store.usage(group_by="user_id")

    assert [row.id for row in page.items] == ["agent"]
    assert page.items[0].properties == {"team": "red"}
    assert [(row.key, row.sessions) for row in totals] == [({"user_id": "alice"}, 1)]
    # Another object on the same session, with another owner, changes nothing stored.
    other = LLMSessionsSession("agent", store=store, user_id="bob", properties={"team": "x"})
    await other.add_items(ITEMS)
    stored = await store.get("agent")
    assert stored is not None and stored.metadata.user_id == "alice"
    assert stored.metadata.properties == {"team": "red"} and len(stored.events) == 4


@pytest.mark.parametrize(
    ("owner", "field"),
    [
        ({"user_id": "a/b"}, "user_id"),
        ({"user_id": ""}, "user_id"),
        ({"properties": ["team"]}, "properties"),
        ({"properties": {"team": float("nan")}}, "metadata.properties"),
    ],
)
async def test_a_bad_owner_is_named_before_anything_is_written(
    owner: dict[str, object], field: str
) -> None:
    store = InMemorySessionStore()
    with pytest.raises(InvalidInputError) as caught:
        LLMSessionsSession("agent", store=store, **owner)  # type: ignore[arg-type]
    assert caught.value.field.startswith(field)
    assert await store.list_sessions() == []
