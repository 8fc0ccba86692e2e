"""The lifecycle layer (``llm_sessions.lifecycle``): TTL key-value sessions, and sandboxed
session records with expiry and grid paths, the same code on memory and on Redis.

Redis is the test suite's: ``LLM_SESSIONS_TEST_REDIS_URL`` or ``REDIS_URL`` (default
``redis://127.0.0.1:6379/0``). Its keys carry a random tag and are deleted or expire at once.

    python examples/lifecycle.py
"""

# expect: [memory] a key with a 1 s TTL: alice, then None
# expect: [redis] a key with a 1 s TTL: alice, then None
# expect: [redis] valid: True, user alice, role admin
# expect: [redis] artifact path: grid/
# expect: [redis] after delete: valid False

from __future__ import annotations

import asyncio
import os
import uuid

from llm_sessions.lifecycle import SessionManager
from llm_sessions.lifecycle.provider_factory import aclose_factories, factory_for_env

env = os.environ.get
REDIS_URL = env("LLM_SESSIONS_TEST_REDIS_URL") or env("REDIS_URL") or "redis://127.0.0.1:6379/0"


async def demo(provider: str) -> None:
    factory = factory_for_env({"SESSION_PROVIDER": provider, "REDIS_URL": REDIS_URL})
    key = f"example:{uuid.uuid4().hex}"
    async with factory() as kv:  # the low-level API: keys with a time to live
        await kv.setex(key, 1, "alice")
        before = await kv.get(key)
        await asyncio.sleep(1.5)
        print(f"[{provider}] a key with a 1 s TTL: {before}, then {await kv.get(key)}")

    sandbox = f"example-app-{uuid.uuid4().hex[:8]}"  # one tenant; others cannot see its ids
    sessions = SessionManager(sandbox_id=sandbox, session_factory=factory, default_ttl_hours=1)
    session_id = await sessions.allocate_session(user_id="alice", custom_metadata={"role": "admin"})
    info = await sessions.get_session_info(session_id) or {}
    valid = await sessions.validate_session(session_id)
    role = info["custom_metadata"]["role"]
    print(f"[{provider}] valid: {valid}, user {info['user_id']}, role {role}")
    await sessions.extend_session_ttl(session_id, additional_hours=2)
    extended = await sessions.get_session_info(session_id) or {}
    print(f"[{provider}] expires {info['expires_at']} -> {extended['expires_at']}")
    path = sessions.generate_artifact_key(session_id, "report.pdf")
    print(f"[{provider}] artifact path: {path}")
    await sessions.delete_session(session_id)
    print(f"[{provider}] after delete: valid {await sessions.validate_session(session_id)}")


async def main() -> None:
    try:
        for provider in ("memory", "redis"):
            await demo(provider)
    finally:
        await aclose_factories()


if __name__ == "__main__":
    asyncio.run(main())
