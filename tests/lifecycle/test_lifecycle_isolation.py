"""Tenant isolation on both providers: sandbox B can never see or change sandbox A's sessions."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from llm_sessions.exceptions import InvalidSessionId
from llm_sessions.lifecycle import SessionManager
from llm_sessions.lifecycle.protocol import ProviderFactory


@pytest.fixture
def tenants(
    provider: ProviderFactory, sandbox: Callable[[str], str]
) -> tuple[SessionManager, SessionManager]:
    return (
        SessionManager(sandbox_id=sandbox("a"), session_factory=provider),
        SessionManager(sandbox_id=sandbox("b"), session_factory=provider),
    )


async def test_b_cannot_touch_a_session(tenants: tuple[SessionManager, SessionManager]) -> None:
    a, b = tenants
    sid = await a.allocate_session(user_id="alice", custom_metadata={"secret": 1})
    before = await a.get_session_info(sid)

    assert await b.validate_session(sid) is False
    assert await b.get_session_info(sid) is None
    assert await b.update_session_metadata(sid, {"secret": "stolen"}) is False
    assert await b.update_session_metadata(sid, {}, merge=False) is False
    assert await b.extend_session_ttl(sid, 1000) is False
    assert await b.delete_session(sid) is False

    assert await a.get_session_info(sid) == before
    assert await a.validate_session(sid) is True


async def test_allocating_a_session_id_of_a_in_b_leaves_a_intact(
    tenants: tuple[SessionManager, SessionManager],
) -> None:
    a, b = tenants
    sid = await a.allocate_session(user_id="alice", ttl_hours=2, custom_metadata={"owner": "a"})
    before = await a.get_session_info(sid)

    assert (
        await b.allocate_session(
            session_id=sid, user_id="mallory", ttl_hours=0.5, custom_metadata={"owner": "b"}
        )
        == sid
    )
    in_b = await b.get_session_info(sid)
    assert in_b is not None
    assert (in_b["sandbox_id"], in_b["user_id"]) == (b.sandbox_id, "mallory")
    assert in_b["custom_metadata"] == {"owner": "b"}

    await b.update_session_metadata(sid, {"owner": "b2"})
    await b.extend_session_ttl(sid, 5)
    await b.validate_session(sid)
    assert await b.delete_session(sid) is True

    assert await a.get_session_info(sid) == before


async def test_same_user_gets_separate_sessions_and_paths(
    tenants: tuple[SessionManager, SessionManager],
) -> None:
    a, b = tenants
    sa = await a.allocate_session(user_id="alice")
    sb = await b.allocate_session(user_id="alice")
    path_a = a.generate_artifact_key(sa, "report123")
    path_b = b.generate_artifact_key(sb, "report123")
    assert path_a.startswith(f"grid/{a.sandbox_id}/") and path_b.startswith(f"grid/{b.sandbox_id}/")
    assert path_a != path_b
    assert await a.validate_session(sb) is False
    assert await b.validate_session(sa) is False


async def test_colliding_key_spellings_are_impossible(provider: ProviderFactory) -> None:
    # With ':' allowed in sandbox ids, sandbox "x" + session "y:session:z" and sandbox
    # "x:session:y" + session "z" would share a key. Sandbox ids may not contain ':'.
    with pytest.raises(InvalidSessionId, match="':'"):
        SessionManager(sandbox_id="x:session:y", session_factory=provider)
    victim = SessionManager(sandbox_id="x", session_factory=provider)
    sid = await victim.allocate_session(session_id="y:session:z")
    assert await victim.validate_session(sid)
    await victim.delete_session(sid)
