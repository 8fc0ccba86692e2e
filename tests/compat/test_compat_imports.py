"""Every module path the original packages' users import from resolves, to the one real object.

An old path is a thin re-export: each name below must be the very object of its real home, so
this list also keeps anyone from removing a path by accident.
"""

from __future__ import annotations

import importlib
import pathlib
from importlib.metadata import metadata

import pytest

import llm_sessions
from llm_sessions import api, compat, exceptions, lifecycle, storage
from llm_sessions.api import helpers
from llm_sessions.lifecycle import enums, manager, models
from llm_sessions.lifecycle import provider_factory as lifecycle_factory
from llm_sessions.storage.providers import file, memory
from llm_sessions.storage.providers import redis as redis_store

# old path -> {name: the object it must be}
OLD_PATHS = {
    "llm_sessions.storage.base": {
        "SessionStoreInterface": storage.SessionStoreInterface,
        "SessionStoreProvider": storage.SessionStoreProvider,
    },
    "llm_sessions.storage.providers.memory": {
        "InMemorySessionStore": storage.InMemorySessionStore,
    },
    "llm_sessions.storage.providers.file": {
        "FileSessionStore": storage.FileSessionStore,
        "create_file_session_store": storage.create_file_session_store,
    },
    "llm_sessions.storage.providers.redis": {
        "RedisSessionStore": storage.RedisSessionStore,
        "create_redis_session_store": storage.create_redis_session_store,
    },
    "llm_sessions.api.simple_api": {
        "SessionManager": llm_sessions.SessionManager,
        "track_conversation": helpers.track_conversation,
        "track_llm_call": helpers.track_llm_call,
        "quick_conversation": helpers.quick_conversation,
        "track_infinite_conversation": helpers.track_infinite_conversation,
    },
    "llm_sessions.session_manager": {"SessionManager": api.SessionManager},
    "llm_sessions.lifecycle.session_manager": {"SessionManager": manager.SessionManager},
    "llm_sessions.lifecycle.exceptions": {
        "SessionError": exceptions.SessionManagerError,
        "ProviderError": exceptions.StorageError,
    },
    "llm_sessions.lifecycle.models": {"SessionMetadata": models.SessionInfo},
    "llm_sessions.lifecycle.enums": {
        "SessionStatus": enums.SessionStatus,
        "ProviderType": enums.ProviderType,
    },
    "llm_sessions.lifecycle.provider_factory": {"factory_for_env": lifecycle.factory_for_env},
}


@pytest.mark.parametrize(("path", "names"), OLD_PATHS.items(), ids=list(OLD_PATHS))
def test_old_path_re_exports_the_real_object(path: str, names: dict[str, object]) -> None:
    module = importlib.import_module(path)
    for name, real in names.items():
        assert getattr(module, name) is real, f"{path}.{name}"
        assert name in module.__all__, f"{name} missing from {path}.__all__"


def test_real_homes_are_not_copies() -> None:
    # the old paths are the moved modules themselves (see llm_sessions.compat)
    assert memory.InMemorySessionStore.__module__ == "llm_sessions.storage.memory"
    assert file.FileSessionStore.__module__ == "llm_sessions.storage.file._store"
    assert redis_store.RedisSessionStore.__module__ == "llm_sessions.storage.redis._store"
    assert memory is importlib.import_module("llm_sessions.storage.memory")
    assert helpers.track_llm_call.__module__ == "llm_sessions.api.helpers"
    assert storage.SessionStoreProvider.__module__ == "llm_sessions.storage._provider"


@pytest.mark.parametrize(("old", "new"), compat.MOVED.items(), ids=list(compat.MOVED))
def test_a_moved_module_is_its_new_home(old: str, new: str) -> None:
    module = importlib.import_module(old)
    assert module is importlib.import_module(new)
    assert module.__name__ == new


@pytest.mark.parametrize(("old", "sources"), compat.GATHERED.items(), ids=list(compat.GATHERED))
def test_a_gathering_path_re_exports_the_real_objects(old: str, sources: tuple[str, ...]) -> None:
    module = importlib.import_module(old)
    expected: dict[str, object] = {}
    for spec in sources:
        source, _, picked = spec.partition(":")
        real = importlib.import_module(source)
        if picked:
            attribute, _, old_name = picked.partition(" as ")
            expected[old_name or attribute] = getattr(real, attribute)
        else:
            expected.update({name: getattr(real, name) for name in real.__all__})
    assert sorted(module.__all__) == sorted(expected)
    for name, real_object in expected.items():
        assert getattr(module, name) is real_object, f"{old}.{name}"


def test_every_old_path_module_is_an_alias_listed_in_compat() -> None:
    root = pathlib.Path(llm_sessions.__file__).parent
    aliases = {
        "llm_sessions." + ".".join(path.relative_to(root).with_suffix("").parts)
        for path in root.rglob("*.py")
        if path.read_text().rstrip().endswith("\nalias(__name__)")
    }
    assert aliases == set(compat.MOVED) | set(compat.GATHERED)


def test_lifecycle_api_get_session_and_session() -> None:
    from llm_sessions.lifecycle.api import get_session, session

    assert session is get_session


async def test_lifecycle_get_session_reaches_the_configured_provider(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from llm_sessions.lifecycle.api import get_session

    monkeypatch.setenv("SESSION_PROVIDER", "memory")
    async with get_session() as kv:
        await kv.setex("compat-get-session", 60, "v")
    async with lifecycle_factory.factory_for_env()() as kv:
        assert await kv.get("compat-get-session") == "v"
        assert await kv.delete("compat-get-session")


async def test_lifecycle_memory_factory_is_the_shared_memory_provider(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from llm_sessions.lifecycle.providers.memory import factory

    monkeypatch.delenv("SESSION_PROVIDER", raising=False)
    assert factory() is lifecycle_factory.factory_for_env()
    async with factory()() as kv:
        await kv.setex("compat-memory-factory", 60, "shared")
    async with lifecycle_factory.factory_for_env()() as kv:
        assert await kv.get("compat-memory-factory") == "shared"
        await kv.delete("compat-memory-factory")


async def test_lifecycle_redis_factory_talks_to_the_url(redis_url: str) -> None:
    from llm_sessions.lifecycle.providers.redis import factory

    session_factory = factory(redis_url)
    assert factory(redis_url) is session_factory
    async with session_factory() as kv:
        await kv.setex("llm-sessions-test:compat-redis-factory", 60, "here")
        assert await kv.get("llm-sessions-test:compat-redis-factory") == "here"
        assert await kv.delete("llm-sessions-test:compat-redis-factory")
    await session_factory.aclose()


def test_session_status_is_stored_by_value() -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    info = models.SessionMetadata(
        session_id="s", sandbox_id="b", created_at=now, expires_at=now, last_accessed=now
    )
    assert info.status is enums.SessionStatus.ACTIVE
    assert info.to_dict()["status"] == "active"
    assert models.SessionInfo.model_validate_json(info.model_dump_json()).status == "active"


def test_provider_errors_are_caught_by_the_old_names() -> None:
    from llm_sessions.lifecycle.exceptions import ProviderError, SessionError

    with pytest.raises(ProviderError):
        raise exceptions.StorageError("down")
    with pytest.raises(SessionError):
        raise exceptions.SessionNotFound("x")


@pytest.mark.parametrize("extra", ["tools", "dev", "full", "redis"])
def test_install_extras_the_seeds_name_exist(extra: str) -> None:
    assert extra in metadata("llm-sessions").get_all("Provides-Extra")


def test_the_lifecycle_manager_has_a_name_of_its_own() -> None:
    assert lifecycle.LifecycleManager is manager.SessionManager is lifecycle.SessionManager
    assert lifecycle.LifecycleManager.__name__ == "LifecycleManager"
    assert lifecycle.LifecycleManager is not api.SessionManager


def test_the_recording_manager_lives_in_api_manager() -> None:
    assert api.SessionManager.__module__ == "llm_sessions.api.manager"


@pytest.mark.parametrize(
    ("module", "logger_name"),
    [
        ("llm_sessions.conversations._summaries", "llm_sessions.summaries"),
        ("llm_sessions.conversations._infinite", "llm_sessions.infinite_conversation"),
        ("llm_sessions.api.manager", "llm_sessions.api.simple_api"),
        ("llm_sessions.lifecycle.providers._redis", "llm_sessions.lifecycle.providers.redis"),
    ],
)
def test_moved_modules_log_under_their_old_names(module: str, logger_name: str) -> None:
    assert importlib.import_module(module).logger.name == logger_name
