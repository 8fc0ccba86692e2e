"""Tenants cannot reach each other through grid paths or the memory provider's size limit."""

from __future__ import annotations

import pytest

from llm_sessions.lifecycle import SessionManager
from llm_sessions.lifecycle.grid import parse_grid_key
from llm_sessions.lifecycle.providers.memory import MemoryProviderFactory, MemoryStore


@pytest.mark.parametrize(
    "subpath",
    ["../other", "a/../../b", "a/./b", "a//b", "a/b/", "nul\x00byte", "back\\slash", "."],
)
def test_a_parsed_subpath_is_checked_like_a_built_path(subpath: str) -> None:
    assert parse_grid_key(f"grid/sandbox-a/sess-1/artifact/{subpath}") is None


def test_a_well_formed_subpath_still_parses() -> None:
    parsed = parse_grid_key("grid/sandbox-a/sess-1/artifact/images/v2/cat.png")
    assert parsed is not None and parsed["subpath"] == "images/v2/cat.png"


def test_a_full_store_evicts_from_the_tenant_that_holds_the_most() -> None:
    shared = MemoryStore(max_entries=4)
    for n in range(3):
        shared.put(f"sandbox:big:session:{n}", "x", None)
    shared.put("sandbox:small:session:0", "x", None)
    shared.put("sandbox:small:session:1", "x", None)  # full: "big" gives up its oldest
    assert shared.fetch("sandbox:big:session:0") is None
    assert shared.fetch("sandbox:small:session:0") == "x"


async def test_one_tenant_filling_the_store_never_evicts_another() -> None:
    shared = MemoryStore(max_entries=100)
    factory = MemoryProviderFactory(shared)
    alice = SessionManager(sandbox_id="alice", session_factory=factory)
    mallory = SessionManager(sandbox_id="mallory", session_factory=factory)
    kept = await alice.allocate_session(user_id="alice")
    for _ in range(120):
        await mallory.allocate_session(user_id="mallory")

    assert await alice.validate_session(kept)
    assert shared.stats()["evicted"] > 0  # mallory's own oldest entries made the room
    assert len(shared) <= 100
    assert await alice.validate_session(kept)  # writing alice's access key evicts none of hers
    info = await alice.get_session_info(kept)
    assert info is not None and info["user_id"] == "alice"
