"""Grid paths: building, parsing back, and refusing what is not a grid path."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llm_sessions.lifecycle import MemoryProviderFactory, SessionManager
from llm_sessions.lifecycle.grid import parse_grid_key

_ID_CHARS = st.characters(blacklist_categories=["Cc", "Cs"], blacklist_characters="/\\:")
ids = st.text(_ID_CHARS, min_size=1, max_size=40).filter(lambda s: s not in (".", ".."))


@pytest.fixture
def manager() -> SessionManager:
    return SessionManager(sandbox_id="webapp", session_factory=MemoryProviderFactory())


def test_paths(manager: SessionManager) -> None:
    sid = "sess-alice-1234567890-abcd1234"
    assert manager.get_canonical_prefix(sid) == f"grid/webapp/{sid}/"
    assert manager.generate_artifact_key(sid, "document123") == f"grid/webapp/{sid}/document123"
    assert manager.get_session_prefix_pattern() == "grid/webapp/"


def test_parse(manager: SessionManager) -> None:
    sid = "sess-alice-1234567890-abcd1234"
    assert manager.parse_grid_key(f"grid/webapp/{sid}/document123") == {
        "sandbox_id": "webapp",
        "session_id": sid,
        "artifact_id": "document123",
        "subpath": None,
    }
    parsed = manager.parse_grid_key(f"grid/other/{sid}/doc/pages/1.png")
    assert parsed is not None
    assert (parsed["sandbox_id"], parsed["subpath"]) == ("other", "pages/1.png")


@pytest.mark.parametrize(
    "key",
    [
        "",
        "grid",
        "grid/webapp/",
        "grid/webapp/sess",
        "grid/webapp/sess/",
        "grid//sess/doc",
        "grid/webapp//doc",
        "grid/../sess/doc",
        "grid/a:b/sess/doc",
        "artifacts/webapp/sess/doc",
        "/grid/webapp/sess/doc",
        "sandbox:webapp:session:sess",
    ],
)
def test_not_grid_keys(key: str) -> None:
    assert parse_grid_key(key) is None


@given(sandbox=ids, session=ids, artifact=ids)
def test_roundtrip(sandbox: str, session: str, artifact: str) -> None:
    manager = SessionManager(sandbox_id=sandbox, session_factory=MemoryProviderFactory())
    key = manager.generate_artifact_key(session, artifact)
    assert key.startswith(manager.get_canonical_prefix(session))
    assert key.startswith(manager.get_session_prefix_pattern())
    assert manager.parse_grid_key(key) == {
        "sandbox_id": sandbox,
        "session_id": session,
        "artifact_id": artifact,
        "subpath": None,
    }
