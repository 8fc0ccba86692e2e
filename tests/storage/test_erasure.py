"""``erase`` on every store: a user's sessions go with everything derived from them, nothing
of another user's goes, bad requests delete nothing, and the audit log says what was done."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest
from erasure_data import ALICE_TEXT, People, forget_erasures, write_people

from llm_sessions.exceptions import InvalidInputError, SessionNotFound
from llm_sessions.models import Session, SessionEvent
from llm_sessions.server.tenancy import TenantStore
from llm_sessions.storage import ErasureReceipt, SessionStore
from llm_sessions.storage.postgres import _maintenance as postgres_maintenance
from llm_sessions.storage.sqlite import _erase_pace as sqlite_pace

if TYPE_CHECKING:
    from conftest import StoreCase


@pytest.fixture
async def written(store_case: StoreCase) -> AsyncIterator[tuple[SessionStore, People]]:
    store = store_case.open()
    people = await write_people(store)
    yield store, people
    await forget_erasures(store)


async def remaining(store: SessionStore, people: People) -> set[str]:
    return set(await store.list_sessions()) & (people.alice | people.bob)


async def test_erasing_a_user_removes_her_chains_forks_and_children(
    written: tuple[SessionStore, People], store_case: StoreCase
) -> None:
    store, people = written
    receipt = await store.erase(where={"user_id": "alice"}, actor="dpo@example.com")
    assert set(receipt.session_ids) == people.alice
    assert receipt.counts["sessions"] == len(people.alice)
    assert receipt.counts["events"] == 2 * 4 + 2 + 1  # the fork holds its root's two
    assert receipt.counts["blobs"] == 0
    fresh = store_case.reader(store)
    assert await remaining(fresh, people) == people.bob
    for session_id in people.alice:
        assert await fresh.get(session_id) is None
    for where in ({"user_id": "alice"}, {"root_id": people.root}):
        assert (await fresh.find_sessions(where=where)).items == []
    assert {row.id for row in (await fresh.find_sessions(where={"user_id": "bob"})).items} == (
        people.bob
    )
    for session_id in people.bob:
        bob = await fresh.get(session_id)
        assert bob is not None and len(bob.events) == 2


async def test_an_erasure_in_batches_of_two_erases_the_same(
    written: tuple[SessionStore, People], store_case: StoreCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite deletes one batch after another; PostgreSQL two batches at once.
    monkeypatch.setattr(sqlite_pace, "_BATCH", 2)
    monkeypatch.setattr(postgres_maintenance, "_BATCH", 2)
    store, people = written
    receipt = await store.erase(where={"user_id": "alice"})
    assert receipt.counts["sessions"] == len(people.alice)
    assert await remaining(store_case.reader(store), people) == people.bob


async def test_the_audit_log_keeps_who_when_the_filter_and_counts_never_content(
    written: tuple[SessionStore, People], store_case: StoreCase
) -> None:
    store, _ = written
    receipt = await store.erase(where={"user_id": "alice"}, actor="dpo@example.com")
    [audit] = await store_case.reader(store).audit_log()
    assert audit.erasure_id == receipt.erasure_id
    assert audit.actor == "dpo@example.com"
    assert audit.filter == {"where": {"user_id": "alice"}, "all": False}
    assert audit.counts == receipt.counts
    assert audit.started_at <= audit.finished_at
    assert ALICE_TEXT not in audit.model_dump_json()
    again = await store.erase(where={"user_id": "alice"})
    assert again.counts["sessions"] == 0 and again.session_ids == []
    assert [a.erasure_id for a in await store.audit_log()] == [
        receipt.erasure_id,
        again.erasure_id,
    ]


async def test_erasing_by_id_takes_the_session_and_what_derives_from_it(
    written: tuple[SessionStore, People],
) -> None:
    store, people = written
    receipt = await store.erase(session_ids=[people.child, "never-stored"])
    derived = {people.child, people.grandchild, "bob-under-alice"}
    assert set(receipt.session_ids) == derived
    assert receipt.counts["sessions"] == 3
    assert await remaining(store, people) == (people.alice - derived) | people.bob


async def test_an_append_to_an_erased_session_is_refused(
    written: tuple[SessionStore, People], store_case: StoreCase
) -> None:
    store, people = written
    writer = store_case.reader(store)
    held = await writer.get(people.root)
    assert held is not None
    await store.erase(where={"user_id": "alice"})
    await held.add_event(SessionEvent(message=f"{ALICE_TEXT} late"))
    if store_case.durable:
        with pytest.raises(SessionNotFound):
            await writer.save(held)
        assert await store.get(people.root) is None


async def test_erasing_everything_takes_all_true(written: tuple[SessionStore, People]) -> None:
    store, people = written
    receipt = await store.erase(where={}, all=True)
    assert set(receipt.session_ids) >= people.alice | people.bob
    assert await remaining(store, people) == set()


BAD_REQUESTS: list[tuple[dict[str, Any], str]] = [
    ({"where": {}}, "where"),
    ({}, "where"),
    ({"where": {"email": "a@example.com"}}, "where['email']"),
    ({"where": {"user_id": ""}}, "where['user_id']"),
    ({"where": {"user_id": 7}}, "where['user_id']"),
    ({"where": {"user_id": "alice"}, "session_ids": ["alice-root"]}, "session_ids"),
    ({"where": {"user_id": "alice"}, "all": True}, "all"),
    ({"session_ids": []}, "session_ids"),
    ({"session_ids": "alice-root"}, "session_ids"),
    ({"session_ids": ["alice-root"], "all": True}, "all"),
    ({"where": {"user_id": "alice"}, "actor": 5}, "actor"),
    ({"where": {"user_id": "alice"}, "all": "yes"}, "all"),
]


async def test_bad_requests_are_named_and_delete_nothing(
    written: tuple[SessionStore, People],
) -> None:
    store, people = written
    for arguments, field in BAD_REQUESTS:
        with pytest.raises(InvalidInputError) as caught:
            await store.erase(**arguments)
        assert caught.value.field == field, arguments
    with pytest.raises(ValueError, match="a/b"):
        await store.erase(session_ids=["a/b"])
    assert await remaining(store, people) == people.alice | people.bob
    assert await store.audit_log() == []


async def test_a_tenant_erases_only_its_own(store_case: StoreCase) -> None:
    store = store_case.open()
    acme = await write_people(store, "acme.")
    other = await write_people(store, "zeta.")
    view = TenantStore(store, "acme")
    try:
        with pytest.raises(InvalidInputError) as caught:
            await view.erase(session_ids=["acme.alice-root", "zeta.alice-root"])
        assert caught.value.field == "session_ids" and "zeta.alice-root" in str(caught.value)
        assert await remaining(store, acme) == acme.alice | acme.bob
        receipt = await view.erase(where={"user_id": "alice"}, actor="acme-admin")
        assert set(receipt.session_ids) == acme.alice
        assert await remaining(store, acme) == acme.bob
        assert await remaining(store, other) == other.alice | other.bob
        assert [a.actor for a in await view.audit_log()] == ["acme-admin"]
        assert await TenantStore(store, "zeta").audit_log() == []
        assert receipt.filter["prefix"] == "acme."
    finally:
        await forget_erasures(store)


async def test_a_receipt_round_trips_as_json(written: tuple[SessionStore, People]) -> None:
    store, _ = written
    receipt = await store.erase(session_ids=["alice-other"])
    assert ErasureReceipt.model_validate_json(receipt.model_dump_json()) == receipt


async def test_a_session_that_names_a_blob_takes_it_unless_another_names_it(
    store_case: StoreCase,
) -> None:
    from llm_sessions.models import Attachment
    from llm_sessions.storage import blob_area

    store = store_case.open()
    try:
        mine, shared = b"only alice's picture", b"a picture both hold"
        area = blob_area(store)
        for session_id, blobs in (("alice-pics", [mine, shared]), ("bob-pics", [shared])):
            session: Session[Any] = Session(id=session_id)
            session.metadata.user_id = session_id.split("-")[0]
            parts = [
                Attachment.from_bytes(data, "text/plain").part(await area.put(data))
                for data in blobs
            ]
            await session.add_event(SessionEvent(message={"role": "user", "content": parts}))
            await store.save(session)
        before = set(await area.touched())
        receipt = await store.erase(where={"user_id": "alice"})
        assert receipt.counts["blobs"] == 1
        assert len(set(await area.touched())) == len(before) - 1
        assert await area.get_many(list(before)) != {}
    finally:
        await store.erase(where={}, all=True)  # bob's session and the blob only it names
        await forget_erasures(store)
