"""The public surface of llm_sessions.lifecycle, and the seed's import paths."""

from __future__ import annotations

import llm_sessions.lifecycle as lifecycle
from llm_sessions.lifecycle import manager, provider_factory


def test_all_is_exact_and_importable() -> None:
    assert sorted(lifecycle.__all__) == [
        "KeyValueSession",
        "LifecycleManager",
        "MemoryProviderFactory",
        "MemoryStore",
        "ProviderFactory",
        "SessionFactory",
        "SessionInfo",
        "SessionManager",
        "aclose_factories",
        "factory_for_env",
    ]
    for name in lifecycle.__all__:
        assert getattr(lifecycle, name) is not None


def test_seed_import_paths() -> None:
    assert lifecycle.SessionManager is manager.SessionManager
    assert lifecycle.factory_for_env is provider_factory.factory_for_env
