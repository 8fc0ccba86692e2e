"""The examples of the chuk-sessions README (seed 004), with ``chuk_sessions`` renamed to
``llm_sessions.lifecycle``, run as written. Only what the README leaves undefined (the web
framework's ``request``, ``HTTPException``, ``store_file``, ``some_expensive_operation`` ...) is
stubbed, and each example's claims are asserted.
"""
# The examples keep their imports where the README puts them, re-importing freely:
# ruff: noqa: E402, F811, F841
# The README's code is untyped; it is checked by running it.
# mypy: ignore-errors

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from types import SimpleNamespace
from typing import Any

import pytest

from llm_sessions.exceptions import StorageError
from llm_sessions.lifecycle import SessionManager
from llm_sessions.lifecycle.provider_factory import factory_for_env

SESSION_ID = re.compile(r"sess-[A-Za-z0-9_-]+-\d{10}-[0-9a-f]{8}")


# ── stubs for what the README's application code leaves undefined ─────────────────────────


class HTTPException(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(status, detail)
        self.status = status


request = SimpleNamespace(
    client=SimpleNamespace(host="192.168.1.100"), headers={"user-agent": "pytest"}
)
stored_files: dict[str, bytes] = {}
logger = logging.getLogger("seed-example")


async def get_user_permissions(username: str) -> list[str]:
    return ["read", "write"]


async def get_tenant_user_permissions(tenant_id: str, user_id: str) -> list[str]:
    return ["read"]


async def store_file(path: str, data: bytes) -> None:
    stored_files[path] = data


async def perform_operation() -> str:
    return "done"


# ── Quick Start ───────────────────────────────────────────────────────────────────────────


def test_basic_provider_usage(capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    from llm_sessions.lifecycle.provider_factory import factory_for_env

    async def basic_usage():  # type: ignore[no-untyped-def]
        # Get a session factory (uses memory by default)
        session_factory = factory_for_env()

        # Use the session
        async with session_factory() as session:
            # Store data with 300 second TTL
            await session.setex("user:123", 300, "alice")

            # Retrieve data
            username = await session.get("user:123")
            print(f"User: {username}")  # User: alice

            # Delete when done
            await session.delete("user:123")

        async with session_factory() as session:
            assert await session.get("user:123") is None

    asyncio.run(basic_usage())
    assert capsys.readouterr().out == "User: alice\n"


def test_session_manager_usage(capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    from llm_sessions.lifecycle import SessionManager

    async def session_management():  # type: ignore[no-untyped-def]
        # Create session manager for your application
        session_mgr = SessionManager(
            sandbox_id="my-app",
            default_ttl_hours=24
        )

        # Allocate a session with metadata
        session_id = await session_mgr.allocate_session(
            user_id="alice",
            custom_metadata={
                "role": "admin",
                "department": "engineering",
                "permissions": ["read", "write", "admin"]
            }
        )

        # Generate grid paths for artifacts
        artifact_key = session_mgr.generate_artifact_key(session_id, "document123")
        print(f"Artifact path: {artifact_key}")
        # → grid/my-app/sess-alice-1234567890-abcd1234/document123

        # Validate and update session
        is_valid = await session_mgr.validate_session(session_id)
        await session_mgr.update_session_metadata(session_id, {
            "last_activity": "2024-01-01T12:00:00Z"
        })

        assert is_valid
        info = await session_mgr.get_session_info(session_id)
        assert info is not None
        assert info["custom_metadata"]["last_activity"] == "2024-01-01T12:00:00Z"
        assert info["custom_metadata"]["role"] == "admin"

    asyncio.run(session_management())
    out = capsys.readouterr().out
    expected = r"Artifact path: grid/my-app/sess-alice-\d{10}-[0-9a-f]{8}/document123\n"
    assert re.fullmatch(expected, out)


# ── Session Management ────────────────────────────────────────────────────────────────────


async def test_session_lifecycle(capsys: pytest.CaptureFixture[str]) -> None:
    from llm_sessions.lifecycle import SessionManager

    # Create session manager
    session_mgr = SessionManager(sandbox_id="webapp")

    # Allocate new session
    session_id = await session_mgr.allocate_session(
        user_id="alice",
        ttl_hours=8,  # Work day session
        custom_metadata={
            "login_method": "oauth",
            "ip_address": "192.168.1.100",
            "permissions": ["read", "write"]
        }
    )

    # Validate existing session
    is_valid = await session_mgr.validate_session(session_id)

    # Get complete session info
    session_info = await session_mgr.get_session_info(session_id)
    print(f"User: {session_info['user_id']}")  # type: ignore[index]
    print(f"Created: {session_info['created_at']}")  # type: ignore[index]
    print(f"Custom data: {session_info['custom_metadata']}")  # type: ignore[index]

    # Update session metadata
    await session_mgr.update_session_metadata(session_id, {
        "last_activity": time.time(),
        "files_uploaded": 5
    })

    # Extend session TTL
    await session_mgr.extend_session_ttl(session_id, additional_hours=4)

    extended = await session_mgr.get_session_info(session_id)

    # Clean deletion
    await session_mgr.delete_session(session_id)

    assert is_valid
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "User: alice"
    assert lines[1].startswith("Created: 20")
    assert "'login_method': 'oauth'" in lines[2]
    assert extended is not None and extended["custom_metadata"]["files_uploaded"] == 5
    lifetime = (
        datetime_of(extended["expires_at"]) - datetime_of(extended["created_at"])
    ).total_seconds()
    assert lifetime == 12 * 3600
    assert await session_mgr.validate_session(session_id) is False


def datetime_of(value: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(value)


async def test_grid_operations() -> None:
    session_mgr = SessionManager(sandbox_id="webapp")
    session_id = await session_mgr.allocate_session(user_id="alice")

    # Generate paths
    prefix = session_mgr.get_canonical_prefix(session_id)
    # → "grid/webapp/sess-alice-1234567890-abcd1234/"

    artifact_key = session_mgr.generate_artifact_key(session_id, "document123")
    # → "grid/webapp/sess-alice-1234567890-abcd1234/document123"

    # Parse paths back to components
    parsed = session_mgr.parse_grid_key(artifact_key)
    # → {
    #     "sandbox_id": "webapp",
    #     "session_id": "sess-alice-1234567890-abcd1234",
    #     "artifact_id": "document123"
    # }

    # Get patterns for discovery
    pattern = session_mgr.get_session_prefix_pattern()
    # → "grid/webapp/" (for finding all sessions in sandbox)

    assert prefix == f"grid/webapp/{session_id}/"
    assert artifact_key == f"grid/webapp/{session_id}/document123"
    assert parsed is not None
    assert (parsed["sandbox_id"], parsed["session_id"], parsed["artifact_id"]) == (
        "webapp", session_id, "document123"
    )
    assert pattern == "grid/webapp/"


async def test_multi_tenant_grid_isolation() -> None:
    # Different applications = different sandboxes
    app_a_mgr = SessionManager(sandbox_id="app-a")
    app_b_mgr = SessionManager(sandbox_id="app-b")
    shared_mgr = SessionManager(sandbox_id="shared-services")

    # Same user, different apps = complete isolation
    alice_in_a = await app_a_mgr.allocate_session(user_id="alice")
    alice_in_b = await app_b_mgr.allocate_session(user_id="alice")

    # Same artifact ID, different grid paths
    doc_in_a = app_a_mgr.generate_artifact_key(alice_in_a, "report123")
    # → grid/app-a/sess-alice-..../report123

    doc_in_b = app_b_mgr.generate_artifact_key(alice_in_b, "report123")
    # → grid/app-b/sess-alice-..../report123

    # Perfect tenant isolation ✅
    assert re.fullmatch(r"grid/app-a/sess-alice-[^/]+/report123", doc_in_a)
    assert re.fullmatch(r"grid/app-b/sess-alice-[^/]+/report123", doc_in_b)
    assert await app_b_mgr.validate_session(alice_in_a) is False
    assert await app_a_mgr.validate_session(alice_in_b) is False
    assert await shared_mgr.get_session_info(alice_in_a) is None


# ── Providers ─────────────────────────────────────────────────────────────────────────────


def test_provider_selection_by_environment() -> None:
    import os

    from llm_sessions.lifecycle import MemoryProviderFactory
    from llm_sessions.lifecycle.providers.redis import RedisProviderFactory
    os.environ['SESSION_PROVIDER'] = 'memory'
    assert isinstance(factory_for_env(), MemoryProviderFactory)

    # Alternative names also work
    os.environ['SESSION_PROVIDER'] = 'mem'
    assert isinstance(factory_for_env(), MemoryProviderFactory)
    os.environ['SESSION_PROVIDER'] = 'inmemory'
    assert isinstance(factory_for_env(), MemoryProviderFactory)

    os.environ['SESSION_PROVIDER'] = 'redis'
    os.environ['SESSION_REDIS_URL'] = 'redis://localhost:6379/0'
    factory = factory_for_env()
    assert isinstance(factory, RedisProviderFactory)
    assert factory.url == "redis://localhost:6379/0"

    # Alternative names
    os.environ['SESSION_PROVIDER'] = 'redis_store'
    assert factory_for_env() is factory


# ── Real-World Usage Examples ─────────────────────────────────────────────────────────────


async def test_web_application_session_management() -> None:
    from llm_sessions.lifecycle import SessionManager

    # Web app session manager
    web_mgr = SessionManager(
        sandbox_id="webapp-prod",
        default_ttl_hours=8  # Work day sessions
    )

    async def handle_login(username: str, password: str):  # type: ignore[no-untyped-def]
        # Validate credentials...

        # Create session with rich metadata
        session_id = await web_mgr.allocate_session(
            user_id=username,
            custom_metadata={
                "login_method": "password",
                "ip_address": request.client.host,
                "user_agent": request.headers.get("user-agent"),
                "permissions": await get_user_permissions(username),
                "login_timestamp": time.time()
            }
        )

        return session_id

    async def handle_file_upload(session_id: str, file_data: bytes):  # type: ignore[no-untyped-def]
        # Validate session
        if not await web_mgr.validate_session(session_id):
            raise HTTPException(401, "Invalid session")

        # Generate unique artifact path
        file_id = str(uuid.uuid4())
        artifact_path = web_mgr.generate_artifact_key(session_id, file_id)

        # Store file (using artifact storage system)
        await store_file(artifact_path, file_data)

        # Update session metadata
        session_info = await web_mgr.get_session_info(session_id)
        upload_count = session_info['custom_metadata'].get('uploads', 0) + 1
        await web_mgr.update_session_metadata(session_id, {
            "uploads": upload_count,
            "last_upload": time.time()
        })

        return {"file_id": file_id, "path": artifact_path}

    sid = await handle_login("alice", "hunter2")
    first = await handle_file_upload(sid, b"one")
    await handle_file_upload(sid, b"two")
    info = await web_mgr.get_session_info(sid)
    assert info is not None and info["custom_metadata"]["uploads"] == 2
    assert stored_files[first["path"]] == b"one"
    assert first["path"] == f"grid/webapp-prod/{sid}/{first['file_id']}"
    with pytest.raises(HTTPException):
        await handle_file_upload("sess-forged-1-deadbeef", b"x")


async def test_mcp_server_integration() -> None:
    from llm_sessions.lifecycle import SessionManager

    # MCP server session manager
    mcp_mgr = SessionManager(
        sandbox_id="mcp-server",
        default_ttl_hours=24  # Long-lived conversations
    )

    async def handle_mcp_conversation_start(conversation_id: str):  # type: ignore[no-untyped-def]
        """Start a new MCP conversation session."""
        session_id = await mcp_mgr.allocate_session(
            user_id=f"claude_conversation_{conversation_id}",
            custom_metadata={
                "client": "claude",
                "conversation_id": conversation_id,
                "tools_enabled": ["file_read", "file_write", "file_list"],
                "safety_level": "standard",
                "start_time": time.time()
            }
        )

        return session_id

    async def handle_mcp_tool_call(session_id: str, tool_name: str, artifact_id: str):  # type: ignore[no-untyped-def]
        """Handle MCP tool calls with session-scoped artifacts."""

        # Validate session
        if not await mcp_mgr.validate_session(session_id):
            raise Exception("Invalid MCP session")

        # Generate artifact path for this tool operation
        artifact_path = mcp_mgr.generate_artifact_key(session_id, artifact_id)

        # Update session with tool usage
        session_info = await mcp_mgr.get_session_info(session_id)
        tool_calls = session_info['custom_metadata'].get('tool_calls', [])
        tool_calls.append({
            "tool": tool_name,
            "artifact_id": artifact_id,
            "timestamp": time.time()
        })

        await mcp_mgr.update_session_metadata(session_id, {
            "tool_calls": tool_calls,
            "last_activity": time.time()
        })

        return artifact_path

    sid = await handle_mcp_conversation_start("123")
    assert sid.startswith("sess-claude_conversation_123-")
    path = await handle_mcp_tool_call(sid, "file_read", "document_analysis_1")
    await handle_mcp_tool_call(sid, "file_write", "generated_report_456")
    assert path == f"grid/mcp-server/{sid}/document_analysis_1"
    info = await mcp_mgr.get_session_info(sid)
    assert info is not None
    assert [c["tool"] for c in info["custom_metadata"]["tool_calls"]] == ["file_read", "file_write"]


async def test_api_gateway_rate_limiting() -> None:
    from llm_sessions.lifecycle import SessionManager

    # API gateway session manager
    api_mgr = SessionManager(
        sandbox_id="api-gateway",
        default_ttl_hours=1  # Short-lived for rate limiting
    )

    async def setup_api_client(client_id: str, tier: str):  # type: ignore[no-untyped-def]
        """Set up API client session with rate limiting."""

        rate_limits = {
            "free": 100,
            "standard": 1000,
            "premium": 10000
        }

        session_id = await api_mgr.allocate_session(
            user_id=client_id,
            ttl_hours=1,  # Reset every hour
            custom_metadata={
                "client_id": client_id,
                "tier": tier,
                "rate_limit": rate_limits.get(tier, 100),
                "requests_made": 0,
                "window_start": time.time()
            }
        )

        return session_id

    async def check_rate_limit(session_id: str) -> bool:
        """Check if client can make another API request."""

        session_info = await api_mgr.get_session_info(session_id)
        if not session_info:
            return False

        metadata = session_info['custom_metadata']
        requests_made = metadata.get('requests_made', 0)
        rate_limit = metadata.get('rate_limit', 100)

        if requests_made >= rate_limit:
            return False

        # Increment counter
        await api_mgr.update_session_metadata(session_id, {
            "requests_made": requests_made + 1,
            "last_request": time.time()
        })

        return True

    sid = await setup_api_client("client-1", "free")
    allowed = [await check_rate_limit(sid) for _ in range(101)]
    assert allowed == [True] * 100 + [False]
    assert await check_rate_limit("sess-unknown-1-00000000") is False


async def test_multi_tenant_saas_application() -> None:
    from llm_sessions.lifecycle import SessionManager

    # Different session managers per tenant
    tenant_sessions = {}

    def get_tenant_session_manager(tenant_id: str) -> SessionManager:
        """Get or create session manager for tenant."""
        if tenant_id not in tenant_sessions:
            tenant_sessions[tenant_id] = SessionManager(
                sandbox_id=f"tenant-{tenant_id}",
                default_ttl_hours=24
            )
        return tenant_sessions[tenant_id]

    async def handle_tenant_user_login(tenant_id: str, user_id: str):  # type: ignore[no-untyped-def]
        """Handle user login within specific tenant."""

        mgr = get_tenant_session_manager(tenant_id)

        session_id = await mgr.allocate_session(
            user_id=user_id,
            custom_metadata={
                "tenant_id": tenant_id,
                "login_time": time.time(),
                "permissions": await get_tenant_user_permissions(tenant_id, user_id)
            }
        )

        return session_id

    async def create_tenant_artifact(tenant_id: str, session_id: str, artifact_id: str):  # type: ignore[no-untyped-def]
        """Create artifact within tenant boundaries."""

        mgr = get_tenant_session_manager(tenant_id)

        # Generate tenant-isolated path
        artifact_path = mgr.generate_artifact_key(session_id, artifact_id)
        # → grid/tenant-acme-corp/sess-user123-.../document456

        # Perfect isolation: tenant A cannot access tenant B's artifacts
        return artifact_path

    sid = await handle_tenant_user_login("acme-corp", "user123")
    path = await create_tenant_artifact("acme-corp", sid, "document456")
    assert re.fullmatch(r"grid/tenant-acme-corp/sess-user123-[^/]+/document456", path)
    other = get_tenant_session_manager("globex")
    assert await other.validate_session(sid) is False
    assert get_tenant_session_manager("acme-corp") is tenant_sessions["acme-corp"]


# ── Low-Level Provider Usage ──────────────────────────────────────────────────────────────


async def test_caching_and_verification_codes() -> None:
    from llm_sessions.lifecycle.provider_factory import factory_for_env

    calls: list[dict[str, Any]] = []

    async def some_expensive_operation(params: dict) -> dict:  # type: ignore[type-arg]
        calls.append(params)
        return {"answer": 42, "params": params}

    async def cache_expensive_computation(params: dict):  # type: ignore[no-untyped-def, type-arg]
        """Cache expensive computation results."""
        import hashlib

        # Create cache key
        cache_key = "cache:" + hashlib.md5(
            json.dumps(params, sort_keys=True).encode()
        ).hexdigest()

        session_factory = factory_for_env()

        async with session_factory() as session:
            # Check cache first
            cached = await session.get(cache_key)
            if cached:
                return json.loads(cached)

            # Perform expensive computation
            result = await some_expensive_operation(params)

            # Cache for 1 hour
            await session.setex(cache_key, 3600, json.dumps(result))

            return result

    async def create_verification_code(user_id: str):  # type: ignore[no-untyped-def]
        """Create temporary verification code."""
        import secrets

        code = secrets.token_urlsafe(8)
        session_factory = factory_for_env()

        async with session_factory() as session:
            # Store code for 10 minutes
            await session.setex(f"verify:{user_id}", 600, code)

        return code

    first = await cache_expensive_computation({"q": "life", "n": 1})
    second = await cache_expensive_computation({"n": 1, "q": "life"})
    assert first == second == {"answer": 42, "params": {"q": "life", "n": 1}}
    assert len(calls) == 1  # the second call was served from the cache

    code = await create_verification_code("alice")
    async with factory_for_env()() as session:
        assert await session.get("verify:alice") == code


async def test_caching_example_on_redis(redis_url: str, token: str) -> None:
    os.environ["SESSION_PROVIDER"] = "redis"
    os.environ["SESSION_REDIS_URL"] = redis_url
    key = f"verify:{token}"
    async with factory_for_env()() as session:
        await session.setex(key, 600, "code")
    async with factory_for_env()() as session:
        assert await session.get(key) == "code"
        assert await session.delete(key) is True
    assert factory_for_env().client is not None  # type: ignore[attr-defined]


# ── Testing (the README's own fixtures and tests) ─────────────────────────────────────────

import pytest

from llm_sessions.lifecycle import SessionManager
from llm_sessions.lifecycle.provider_factory import factory_for_env


@pytest.fixture
async def session():  # type: ignore[no-untyped-def]
    """Provide a clean low-level session for each test."""
    import os
    os.environ['SESSION_PROVIDER'] = 'memory'

    session_factory = factory_for_env()
    async with session_factory() as session:
        yield session

@pytest.fixture
async def session_manager():  # type: ignore[no-untyped-def]
    """Provide a session manager for each test."""
    import os
    os.environ['SESSION_PROVIDER'] = 'memory'

    mgr = SessionManager(sandbox_id="test-app")
    yield mgr

@pytest.mark.asyncio
async def test_session_storage(session):  # type: ignore[no-untyped-def]
    await session.setex("test_key", 60, "test_value")
    result = await session.get("test_key")
    assert result == "test_value"

@pytest.mark.asyncio
async def test_session_management(session_manager):  # type: ignore[no-untyped-def]
    # Test session allocation
    session_id = await session_manager.allocate_session(
        user_id="test_user",
        custom_metadata={"role": "tester"}
    )

    # Test validation
    assert await session_manager.validate_session(session_id)

    # Test grid paths
    artifact_key = session_manager.generate_artifact_key(session_id, "test_artifact")
    assert artifact_key.startswith("grid/test-app/")

    # Test metadata update
    await session_manager.update_session_metadata(session_id, {"test": "data"})

    info = await session_manager.get_session_info(session_id)
    assert info['custom_metadata']['test'] == "data"

@pytest.mark.asyncio
async def test_multi_tenant_isolation(session_manager):  # type: ignore[no-untyped-def]
    tenant_a_mgr = SessionManager(sandbox_id="tenant-a")
    tenant_b_mgr = SessionManager(sandbox_id="tenant-b")

    # Same user in different tenants
    session_a = await tenant_a_mgr.allocate_session(user_id="alice")
    session_b = await tenant_b_mgr.allocate_session(user_id="alice")

    # Different grid paths
    path_a = tenant_a_mgr.generate_artifact_key(session_a, "doc123")
    path_b = tenant_b_mgr.generate_artifact_key(session_b, "doc123")

    assert "tenant-a" in path_a
    assert "tenant-b" in path_b
    assert path_a != path_b  # Perfect isolation


# ── Performance Optimization Tips and Best Practices ──────────────────────────────────────


async def test_performance_tips() -> None:
    need_session_management = True

    # ✅ Use SessionManager for session lifecycle
    mgr = SessionManager(sandbox_id="my-app")
    session_id = await mgr.allocate_session(user_id="alice")

    # ✅ Generate grid paths efficiently (cached)
    paths = [
        mgr.generate_artifact_key(session_id, f"artifact_{i}")
        for i in range(1000)
    ]

    # ✅ Batch metadata updates
    await mgr.update_session_metadata(session_id, {
        "file_count": 100,
        "total_bytes": 1024000,
        "last_activity": time.time()
    })

    # ✅ Use appropriate TTLs
    short_lived = await mgr.allocate_session(ttl_hours=1)    # API tokens
    medium_lived = await mgr.allocate_session(ttl_hours=8)   # Work sessions
    long_lived = await mgr.allocate_session(ttl_hours=24)    # User sessions

    # ✅ Choose API level based on needs
    if need_session_management:
        mgr = SessionManager(sandbox_id="app")  # High-level
    else:
        factory = factory_for_env()  # Low-level for simple caching

    assert len(set(paths)) == 1000
    for sid, hours in ((short_lived, 1), (medium_lived, 8), (long_lived, 24)):
        info = await SessionManager(sandbox_id="my-app").get_session_info(sid)
        assert info is not None
        lifetime = datetime_of(info["expires_at"]) - datetime_of(info["created_at"])
        assert lifetime.total_seconds() == hours * 3600
    assert mgr.sandbox_id == "app"


async def test_security_best_practices() -> None:
    mgr = SessionManager(sandbox_id="webapp")

    # ✅ Use appropriate TTLs for different session types
    auth_session = await mgr.allocate_session(user_id="alice", ttl_hours=8)
    api_token = await mgr.allocate_session(user_id="service", ttl_hours=1)
    temp_code = await mgr.allocate_session(user_id="reset", ttl_hours=0.25)  # 15 minutes
    password_reset_session = temp_code

    # ✅ Include security metadata
    session_id = await mgr.allocate_session(
        user_id="alice",
        custom_metadata={
            "ip_address": "192.168.1.100",
            "user_agent": "Mozilla/5.0...",
            "login_method": "oauth",
            "security_level": "high"
        }
    )

    # ✅ Clean up sensitive sessions
    await mgr.delete_session(password_reset_session)

    # ✅ Use namespaced sandbox IDs
    production_mgr = SessionManager(sandbox_id="webapp-prod")
    staging_mgr = SessionManager(sandbox_id="webapp-staging")

    info = await mgr.get_session_info(api_token)
    assert info is not None
    lifetime = datetime_of(info["expires_at"]) - datetime_of(info["created_at"])
    assert lifetime.total_seconds() == 3600
    assert await mgr.validate_session(auth_session)
    assert await mgr.validate_session(session_id)
    assert await mgr.validate_session(temp_code) is False
    assert await staging_mgr.validate_session(session_id) is False
    assert await production_mgr.validate_session(session_id) is False


async def test_performance_best_practices() -> None:
    # ✅ Reuse session managers
    class Application:
        def __init__(self):  # type: ignore[no-untyped-def]
            self.session_mgr = SessionManager(sandbox_id="myapp")

        async def handle_request(self, user_id: str):  # type: ignore[no-untyped-def]
            session_id = await self.session_mgr.allocate_session(user_id=user_id)
            # ... use session
            return session_id

    app = Application()
    session_id = await app.handle_request("alice")
    mgr = app.session_mgr
    artifact_ids = ["a", "b", "c"]

    # ✅ Batch grid path generation
    artifact_paths = [
        mgr.generate_artifact_key(session_id, artifact_id)
        for artifact_id in artifact_ids
    ]

    # ✅ Use appropriate session lifetimes
    short_api_session = await mgr.allocate_session(ttl_hours=1)
    work_session = await mgr.allocate_session(ttl_hours=8)
    persistent_session = await mgr.allocate_session(ttl_hours=24)

    assert artifact_paths == [f"grid/myapp/{session_id}/{a}" for a in artifact_ids]
    for sid in (short_api_session, work_session, persistent_session):
        assert await mgr.validate_session(sid)


async def test_error_handling(caplog: pytest.LogCaptureFixture) -> None:
    mgr = SessionManager(sandbox_id="webapp")

    async def robust_session_operation():  # type: ignore[no-untyped-def]
        try:
            session_id = await mgr.allocate_session(user_id="alice")
            return await mgr.get_session_info(session_id)
        except Exception as e:
            logger.error(f"Session operation failed: {e}")
            return None  # Graceful degradation

    # ✅ Validate sessions before critical operations
    async def protected_operation(session_id: str):  # type: ignore[no-untyped-def]
        if not await mgr.validate_session(session_id):
            raise HTTPException(401, "Invalid or expired session")

        # Proceed with operation
        return await perform_operation()

    info = await robust_session_operation()
    assert info is not None and info["user_id"] == "alice"
    assert await protected_operation(info["session_id"]) == "done"
    with pytest.raises(HTTPException):
        await protected_operation("sess-nobody-1-00000000")

    broken = SessionManager(sandbox_id="webapp", session_factory=_failing_factory)
    mgr = broken
    assert await robust_session_operation() is None
    assert "Session operation failed" in caplog.text


class _FailingSession:
    async def setex(self, key: str, ttl: float, value: str) -> None:
        raise StorageError("store is down")


class _failing_factory:  # used like a factory function
    async def __aenter__(self) -> _FailingSession:
        return _FailingSession()

    async def __aexit__(self, *exc: object) -> None:
        return None


# ── Advanced Usage ────────────────────────────────────────────────────────────────────────


async def test_custom_provider() -> None:
    # custom_provider.py
    from contextlib import asynccontextmanager

    closed: list[bool] = []
    data: dict[str, str] = {}

    class CustomSession:
        async def setex(self, key: str, ttl: int, value: str):  # type: ignore[no-untyped-def]
            # Your implementation
            data[key] = value

        async def set(self, key: str, value: str):  # type: ignore[no-untyped-def]
            data[key] = value

        async def get(self, key: str):  # type: ignore[no-untyped-def]
            # Your implementation
            return data.get(key)

        async def delete(self, key: str):  # type: ignore[no-untyped-def]
            # Your implementation
            return data.pop(key, None) is not None

        async def close(self):  # type: ignore[no-untyped-def]
            # Cleanup
            closed.append(True)

    def factory():  # type: ignore[no-untyped-def]
        @asynccontextmanager
        async def _ctx():  # type: ignore[no-untyped-def]
            session = CustomSession()
            try:
                yield session
            finally:
                await session.close()

        return _ctx

    mgr = SessionManager(sandbox_id="custom", session_factory=factory())
    sid = await mgr.allocate_session(user_id="alice")
    assert await mgr.validate_session(sid)
    assert f"sandbox:custom:session:{sid}" in data
    assert await mgr.delete_session(sid) is True
    assert len(closed) == 3  # one context per operation, each closed


async def test_custom_provider_skeleton_as_printed() -> None:
    from contextlib import asynccontextmanager

    class CustomSession:
        async def setex(self, key: str, ttl: int, value: str):  # type: ignore[no-untyped-def]
            # Your implementation
            pass

        async def get(self, key: str):  # type: ignore[no-untyped-def]
            # Your implementation
            pass

        async def delete(self, key: str):  # type: ignore[no-untyped-def]
            # Your implementation
            pass

        async def close(self):  # type: ignore[no-untyped-def]
            # Cleanup
            pass

    def factory():  # type: ignore[no-untyped-def]
        @asynccontextmanager
        async def _ctx():  # type: ignore[no-untyped-def]
            session = CustomSession()
            try:
                yield session
            finally:
                await session.close()

        return _ctx

    mgr = SessionManager(sandbox_id="skeleton", session_factory=factory())
    sid = await mgr.allocate_session()  # stored nowhere: the skeleton drops it
    assert await mgr.validate_session(sid) is False
    assert await mgr.delete_session(sid) is False


async def test_environment_specific_configuration(
    monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> None:
    # config.py
    import os

    from llm_sessions.lifecycle import SessionManager
    from llm_sessions.lifecycle.providers.redis import RedisProviderFactory

    def get_session_manager(app_name: str) -> SessionManager:
        env = os.getenv('ENVIRONMENT', 'development')

        if env == 'development':
            os.environ['SESSION_PROVIDER'] = 'memory'
            sandbox_id = f"{app_name}-dev"
        elif env == 'testing':
            os.environ['SESSION_PROVIDER'] = 'memory'
            sandbox_id = f"{app_name}-test"
        elif env == 'production':
            os.environ['SESSION_PROVIDER'] = 'redis'
            os.environ['SESSION_REDIS_URL'] = os.getenv('REDIS_URL')  # type: ignore[assignment]
            sandbox_id = f"{app_name}-prod"

        return SessionManager(sandbox_id=sandbox_id)

    dev = get_session_manager("shop")
    assert dev.sandbox_id == "shop-dev"
    monkeypatch.setenv("ENVIRONMENT", "testing")
    assert get_session_manager("shop").sandbox_id == "shop-test"
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("REDIS_URL", redis_url)
    prod = get_session_manager("shop")
    assert prod.sandbox_id == "shop-prod"
    assert isinstance(prod.session_factory, RedisProviderFactory)
    assert prod.session_factory.client is None  # nothing connects until first use
    sid = await prod.allocate_session(user_id="alice", ttl_hours=SECOND)
    assert await prod.validate_session(sid)
    assert await prod.delete_session(sid)


SECOND = 1 / 3600
