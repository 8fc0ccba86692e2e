"""Every kind of bad input gets a clear error naming the field, and nothing stored changes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from llm_sessions.exceptions import InvalidInputError, InvalidSessionId
from llm_sessions.lifecycle import MemoryProviderFactory, SessionManager
from llm_sessions.lifecycle.protocol import ProviderFactory

Call = Callable[[SessionManager, str], Awaitable[Any]]

BAD_CALLS: list[tuple[str, Call, str]] = [
    ("empty id", lambda m, s: m.validate_session(""), "session_id"),
    ("path id", lambda m, s: m.get_session_info("../etc"), "session_id"),
    ("slash id", lambda m, s: m.allocate_session(session_id="a/b"), "session_id"),
    ("long id", lambda m, s: m.allocate_session(session_id="x" * 257), "session_id"),
    ("int id", lambda m, s: m.delete_session(42), "session_id"),  # type: ignore[arg-type]
    ("none id", lambda m, s: m.update_session_metadata(None, {}), "session_id"),  # type: ignore[arg-type]
    ("control id", lambda m, s: m.extend_session_ttl("a\nb", 1), "session_id"),
    ("zero ttl", lambda m, s: m.allocate_session(ttl_hours=0), "ttl_hours"),
    ("negative ttl", lambda m, s: m.allocate_session(ttl_hours=-1), "ttl_hours"),
    ("nan ttl", lambda m, s: m.allocate_session(ttl_hours=float("nan")), "ttl_hours"),
    ("inf ttl", lambda m, s: m.allocate_session(ttl_hours=float("inf")), "ttl_hours"),
    ("huge ttl", lambda m, s: m.allocate_session(ttl_hours=10**9), "ttl_hours"),
    ("text ttl", lambda m, s: m.allocate_session(ttl_hours="24"), "ttl_hours"),  # type: ignore[arg-type]
    ("bool ttl", lambda m, s: m.allocate_session(ttl_hours=True), "ttl_hours"),
    ("reuse zero ttl", lambda m, s: m.allocate_session(session_id=s, ttl_hours=0), "ttl_hours"),
    ("zero extension", lambda m, s: m.extend_session_ttl(s, 0), "additional_hours"),
    ("negative extension", lambda m, s: m.extend_session_ttl(s, -2), "additional_hours"),
    ("endless extension", lambda m, s: m.extend_session_ttl(s, 876_000), "additional_hours"),
    (
        "set metadata",
        lambda m, s: m.allocate_session(custom_metadata={"s": {1, 2}}),
        "custom_metadata['s']",
    ),
    (
        "object metadata",
        lambda m, s: m.update_session_metadata(s, {"o": object()}),
        "custom_metadata['o']",
    ),
    (
        "nan metadata",
        lambda m, s: m.update_session_metadata(s, {"x": [float("nan")]}),
        "custom_metadata['x'][0]",
    ),
    ("int key metadata", lambda m, s: m.update_session_metadata(s, {1: "x"}), "custom_metadata"),  # type: ignore[dict-item]
    ("list metadata", lambda m, s: m.update_session_metadata(s, ["x"]), "custom_metadata"),  # type: ignore[arg-type]
    (
        "non-bool merge",
        lambda m, s: m.update_session_metadata(s, {"a": 1}, merge="no"),  # type: ignore[arg-type]
        "merge",
    ),
    ("int user", lambda m, s: m.allocate_session(user_id=7), "user_id"),  # type: ignore[arg-type]
    ("empty user", lambda m, s: m.allocate_session(user_id=""), "user_id"),
    ("control user", lambda m, s: m.allocate_session(user_id="a\x00b"), "user_id"),
    ("bad artifact", lambda m, s: _sync(m.generate_artifact_key(s, "a/b")), "artifact_id"),
    ("bad prefix id", lambda m, s: _sync(m.get_canonical_prefix("")), "session_id"),
    ("non-string grid key", lambda m, s: _sync(m.parse_grid_key(5)), "key"),  # type: ignore[arg-type]
]


async def _sync(value: object) -> object:
    return value


@pytest.mark.parametrize(
    ("call", "field"), [c[1:] for c in BAD_CALLS], ids=[c[0] for c in BAD_CALLS]
)
async def test_bad_input_is_rejected_and_nothing_changes(
    provider: ProviderFactory, sandbox: Callable[[str], str], call: Call, field: str
) -> None:
    manager = SessionManager(sandbox_id=sandbox("bad"), session_factory=provider)
    sid = await manager.allocate_session(user_id="alice", custom_metadata={"keep": [1, 2]})
    before = await manager.get_session_info(sid)
    size = len(provider.store) if isinstance(provider, MemoryProviderFactory) else None

    with pytest.raises(InvalidInputError) as info:
        await call(manager, sid)

    assert isinstance(info.value, ValueError)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}=")
    assert await manager.get_session_info(sid) == before
    if isinstance(provider, MemoryProviderFactory):
        assert len(provider.store) == size


def test_constructor_rejects_bad_settings() -> None:
    memory = MemoryProviderFactory()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"sandbox_id": ""}, "sandbox_id"),
        ({"sandbox_id": "a/b"}, "sandbox_id"),
        ({"sandbox_id": "a:b"}, "sandbox_id"),
        ({"sandbox_id": 5}, "sandbox_id"),
        ({"default_ttl_hours": 0}, "default_ttl_hours"),
        ({"default_ttl_hours": -24}, "default_ttl_hours"),
        ({"session_factory": "redis"}, "session_factory"),
        ({"cache_ttl_seconds": -1}, "cache_ttl_seconds"),
        ({"max_cache_size": 0}, "max_cache_size"),
    ]
    for kwargs, field in cases:
        kwargs.setdefault("session_factory", memory)
        with pytest.raises(InvalidInputError) as info:
            SessionManager(**kwargs)
        assert info.value.field == field, kwargs
    with pytest.raises(InvalidSessionId, match="sandbox_id=''"):
        SessionManager(sandbox_id="", session_factory=memory)
