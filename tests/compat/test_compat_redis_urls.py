"""The Redis URL forms the originals document (one server, auth, TLS, Sentinel, Cluster), in the
lifecycle ``factory_for_env`` and in ``RedisSessionStore``, against private real deployments."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis

from llm_sessions.exceptions import InvalidInputError
from llm_sessions.lifecycle import SessionManager as LifecycleManager
from llm_sessions.lifecycle.provider_factory import aclose_factories, factory_for_env
from llm_sessions.models import EventSource, Session, SessionEvent
from llm_sessions.redis_urls import RedisTopology, parse_redis_url
from llm_sessions.storage import RedisSessionStore, open_store
from redis_topologies import RedisCluster, RedisSentinel, SecuredRedis


@pytest.fixture
async def closing_factories() -> AsyncIterator[None]:
    yield
    await aclose_factories()


# -- parsing ---------------------------------------------------------------------------------


def test_each_url_form_is_recognised() -> None:
    assert parse_redis_url("redis://h:6379/0").topology is RedisTopology.SERVER
    assert parse_redis_url("unix:///tmp/r.sock").topology is RedisTopology.SERVER
    sentinel = parse_redis_url("rediss://u:p%40ss@s1:26379,s2/mymaster/2")
    assert sentinel.topology is RedisTopology.SENTINEL
    assert sentinel.hosts == (("s1", 26379), ("s2", 26379))
    assert (sentinel.service, sentinel.db, sentinel.tls) == ("mymaster", 2, True)
    assert (sentinel.username, sentinel.password) == ("u", "p@ss")
    cluster = parse_redis_url("redis://:pw@n1:7000,n2:7001,[::1]:7002")
    assert cluster.topology is RedisTopology.CLUSTER
    assert cluster.hosts == (("n1", 7000), ("n2", 7001), ("::1", 7002))
    assert cluster.password == "pw"
    assert "pw" not in cluster.redacted()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://h:1", "must start with"),
        ("redis://n1:7000,n2:7000/3", "only database 0"),
        ("redis://n1:7000,n2:7000?ssl_cert_reqs=none", "take no query options"),
        ("redis://n1:70000,n2:7000", "is not host"),
        ("redis://s1,s2/mymaster/x", "path must be"),
        ("redis://s1,s2/1/2", "path must be"),
        ("redis://s1:26379/mymaster", "lists its sentinels"),
    ],
)
def test_bad_urls_name_the_field_and_the_reason(url: str, reason: str) -> None:
    with pytest.raises(InvalidInputError, match=reason) as raised:
        parse_redis_url(url, "SESSION_REDIS_URL")
    assert raised.value.field == "SESSION_REDIS_URL"


# -- the lifecycle provider ------------------------------------------------------------------


async def _round_trip(env: dict[str, str]) -> None:
    key = f"llm-sessions-test:{uuid.uuid4().hex}"
    async with factory_for_env(env)() as kv:
        await kv.setex(key, 60, "value")
        assert await kv.get(key) == "value"
        assert await kv.delete(key)
        assert await kv.get(key) is None


async def test_factory_for_env_with_auth_and_tls(
    secured_redis: SecuredRedis, closing_factories: None
) -> None:
    await _round_trip({"SESSION_PROVIDER": "redis", "SESSION_REDIS_URL": secured_redis.url})
    tls = {"SESSION_PROVIDER": "redis", "REDIS_URL": secured_redis.tls_url}
    await _round_trip({**tls, "REDIS_TLS_INSECURE": "1"})


async def test_factory_for_env_on_a_cluster(
    redis_cluster: RedisCluster, closing_factories: None
) -> None:
    env = {"SESSION_PROVIDER": "redis_store", "SESSION_REDIS_URL": redis_cluster.url}
    manager = LifecycleManager(sandbox_id="cluster-box", session_factory=factory_for_env(env))
    ids = [await manager.allocate_session(user_id=f"user{n}") for n in range(12)]
    assert all([await manager.validate_session(sid) for sid in ids])
    assert (await manager.get_session_info(ids[0]) or {})["user_id"] == "user0"
    assert _nodes_holding(redis_cluster, "*cluster-box*") > 1  # spread over the masters
    for sid in ids:
        assert await manager.delete_session(sid)


async def test_factory_for_env_through_a_sentinel_failover(
    redis_sentinel: RedisSentinel, closing_factories: None
) -> None:
    env = {"SESSION_PROVIDER": "redis", "SESSION_REDIS_URL": redis_sentinel.url}
    manager = LifecycleManager(sandbox_id="sentinel-box", session_factory=factory_for_env(env))
    before = await manager.allocate_session(user_id="alice")
    old, new = redis_sentinel.failover()
    assert old != new
    assert await manager.validate_session(before)  # written before, read after
    after = await manager.allocate_session(user_id="bob")
    assert (await manager.get_session_info(after) or {})["user_id"] == "bob"
    with redis.Redis(host="127.0.0.1", port=new) as primary:
        assert primary.exists(*primary.keys("*sentinel-box*")) >= 2  # on the new primary
    await manager.delete_session(before)
    await manager.delete_session(after)


# -- the session store -----------------------------------------------------------------------


async def _conversation(store: Any, turns: int, session: Session[Any] | None = None) -> str:
    if session is None:
        session = await Session.create(store=store)
    for _ in range(turns):
        await session.add_event_and_save(
            SessionEvent(message=f"message {len(session.events)}", source=EventSource.USER)
        )
    return session.id


async def _messages(url: str, session_id: str, **options: Any) -> list[Any]:
    store = open_store(url, **options)
    try:
        session = await store.get(session_id)
        assert session is not None
        return [event.message for event in session.events]
    finally:
        await store.close()


def _nodes_holding(cluster: RedisCluster, pattern: str) -> int:
    holding = 0
    for port in cluster.ports:
        with redis.Redis(host="127.0.0.1", port=port) as node:
            holding += bool(node.keys(pattern))
    return holding


async def test_store_on_a_cluster(redis_cluster: RedisCluster) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    url = f"{redis_cluster.url}"
    store = RedisSessionStore.from_url(url, key_prefix=prefix)
    try:
        ids = [await _conversation(store, turns=3) for _ in range(8)]
        assert await store.list_sessions() == sorted(ids)
        assert _nodes_holding(redis_cluster, f"{prefix}*") > 1
        for session_id in ids:  # all keys of one session in one slot
            assert _nodes_holding(redis_cluster, f"{prefix}{{{session_id}}}*") == 1
        assert await _messages(url, ids[0], key_prefix=prefix) == [
            "message 0",
            "message 1",
            "message 2",
        ]
        assert await store.set_expiration(ids[0], 60)
        assert await store.delete(ids[0])
        assert await store.get(ids[0]) is None
        assert await store.drop_all() > 0
        assert await store.list_sessions() == []
    finally:
        await store.close()


async def test_store_on_sentinel_keeps_every_event_through_a_failover(
    redis_sentinel: RedisSentinel,
) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    url = f"{redis_sentinel.url}"
    store = RedisSessionStore.from_url(url, key_prefix=prefix)
    try:
        session = await Session.create(store=store)
        await _conversation(store, turns=3, session=session)
        redis_sentinel.failover()
        await _conversation(store, turns=3, session=session)  # the same store object
        expected = [f"message {n}" for n in range(6)]
        assert await _messages(url, session.id, key_prefix=prefix) == expected
        assert await store.list_sessions() == [session.id]
        await store.drop_all()
    finally:
        await store.close()


async def test_store_with_auth_and_tls(secured_redis: SecuredRedis) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    tls_options = {"ssl_ca_certs": str(secured_redis.ca_file)}
    plain = open_store(f"{secured_redis.url}?key_prefix={prefix}")
    try:
        session_id = await _conversation(plain, turns=2)
    finally:
        await plain.close()
    messages = await _messages(
        f"{secured_redis.tls_url}?key_prefix={prefix}", session_id, **tls_options
    )
    assert messages == ["message 0", "message 1"]
    wrong = secured_redis.url.replace("s3cret-pass", "wrong")
    from llm_sessions.exceptions import StorageError

    store = open_store(f"{wrong}?key_prefix={prefix}")
    try:
        with pytest.raises(StorageError):
            await store.get(session_id)
    finally:
        await store.close()
