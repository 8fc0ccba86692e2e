"""Two users' sessions for the erasure tests: alice's chain (children, a grandchild, a fork,
another user's child of hers) and bob's, each event carrying text a test can look for."""

from __future__ import annotations

from dataclasses import dataclass, field

from llm_sessions.api._forks import fork_session
from llm_sessions.models import Session, SessionEvent
from llm_sessions.storage import SessionStore
from llm_sessions.storage._erasure_run import AUDIT_PREFIX, PLAN_PREFIX
from llm_sessions.storage._side_records import side_records_for

ALICE_TEXT = "alice-secret-7c1f"
BOB_TEXT = "bob-keeps-93ad"


@dataclass
class People:
    """The ids written: ``alice`` (every session an erasure of alice removes) and ``bob``."""

    alice: set[str] = field(default_factory=set)
    bob: set[str] = field(default_factory=set)
    root: str = ""
    child: str = ""
    grandchild: str = ""


async def _said(store: SessionStore, session: Session, text: str, count: int = 2) -> None:
    for n in range(count):
        await session.add_event(SessionEvent(message=f"{text} {session.id} {n}"))
    await store.save(session)


async def write_people(store: SessionStore, prefix: str = "") -> People:
    """Alice's and bob's sessions in ``store``, ids starting with ``prefix``."""
    people = People()
    root = await Session.create(id=f"{prefix}alice-root", store=store, user_id="alice")
    await _said(store, root, ALICE_TEXT)
    child = await Session.create(id=f"{prefix}alice-child", parent_id=root.id, store=store)
    await _said(store, child, ALICE_TEXT)
    grandchild = await Session.create(id=f"{prefix}alice-gc", parent_id=child.id, store=store)
    await _said(store, grandchild, ALICE_TEXT)
    # Bob's child of alice's session holds what it derives from her conversation.
    derived = await Session.create(
        id=f"{prefix}bob-under-alice", parent_id=child.id, store=store, user_id="bob"
    )
    await _said(store, derived, ALICE_TEXT)
    fork = await fork_session(store, [root], None, f"{prefix}alice-fork")
    other = await Session.create(id=f"{prefix}alice-other", store=store, user_id="alice")
    await _said(store, other, ALICE_TEXT, 1)
    people.alice = {root.id, child.id, grandchild.id, derived.id, fork.id, other.id}
    people.root, people.child, people.grandchild = root.id, child.id, grandchild.id
    bob = await Session.create(id=f"{prefix}bob-root", store=store, user_id="bob")
    await _said(store, bob, BOB_TEXT)
    bob_child = await Session.create(id=f"{prefix}bob-child", parent_id=bob.id, store=store)
    await _said(store, bob_child, BOB_TEXT)
    people.bob = {bob.id, bob_child.id}
    return people


async def forget_erasures(store: SessionStore) -> None:
    """Remove the plans and audit records erasures left beside ``store`` (a Redis store's
    ``drop_all`` removes session keys only)."""
    records = side_records_for(store)
    try:
        for prefix in (PLAN_PREFIX, AUDIT_PREFIX):
            for key in await records.scan(prefix, 0.0):
                await records.delete(key)
    finally:
        await records.close()
