"""Side records (the server's idempotency keys) on every store: claim once, expire, replace."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from llm_sessions.exceptions import InvalidInputError
from llm_sessions.storage import SessionStore, SQLiteSessionStore, open_store
from llm_sessions.storage._side_records import SideRecords, side_records_for
from llm_sessions.storage._vector_stores import vector_backend_for

NOW = 1_000_000.0


@pytest.fixture(params=["memory", "file", "sqlite", "redis", "postgres"])
async def records(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[SessionStore, SideRecords]]:
    token = uuid.uuid4().hex[:12]
    urls = {
        "memory": "memory://",
        "file": f"file://{tmp_path / 'files'}",
        "sqlite": f"sqlite:///{tmp_path / 'records.db'}",
    }
    if request.param == "redis":
        url = f"{request.getfixturevalue('redis_url')}?key_prefix=test-records-{token}:"
    elif request.param == "postgres":
        url = f"{request.getfixturevalue('postgres_url')}?schema=test_records_{token}"
    else:
        url = urls[request.param]
    store = open_store(url)
    kept = side_records_for(store)
    yield store, kept
    for key in ("a", "b", "scan:1", "scan:2", "scan:x[*]", "scanner"):
        await kept.delete(key)
    await kept.close()
    if request.param == "postgres":
        await store.drop_all()  # type: ignore[attr-defined]
    await store.close()


async def test_a_claim_is_taken_once_until_it_expires(
    records: tuple[SessionStore, SideRecords],
) -> None:
    store, kept = records
    assert await kept.claim("a", {"n": 1}, NOW + 10, NOW) is None
    found = await kept.claim("a", {"n": 2}, NOW + 10, NOW + 1)
    assert found == {"n": 1, "expires_at": NOW + 10}
    assert await kept.get("a", NOW + 9) == {"n": 1, "expires_at": NOW + 10}
    assert await kept.get("a", NOW + 10) is None
    assert await kept.claim("a", {"n": 3}, NOW + 30, NOW + 11) is None
    assert await kept.get("a", NOW + 12) == {"n": 3, "expires_at": NOW + 30}
    assert await store.list_sessions() == []  # records are not sessions


async def test_put_replaces_and_delete_removes(records: tuple[SessionStore, SideRecords]) -> None:
    _, kept = records
    await kept.put("b", {"state": "pending"}, NOW + 10)
    await kept.put("b", {"state": "done"}, NOW + 10)
    assert await kept.get("b", NOW) == {"state": "done", "expires_at": NOW + 10}
    assert await kept.claim("b", {"state": "other"}, NOW + 10, NOW) is not None
    await kept.delete("b")
    assert await kept.get("b", NOW) is None
    assert await kept.claim("b", {"state": "other"}, NOW + 10, NOW) is None


async def test_scan_finds_the_live_records_under_a_prefix(
    records: tuple[SessionStore, SideRecords],
) -> None:
    _, kept = records
    await kept.put("scan:1", {"n": 1}, NOW + 10)
    await kept.put("scan:2", {"n": 2}, NOW + 5)
    await kept.put("scan:x[*]", {"n": 3}, NOW + 10)
    await kept.put("scanner", {"n": 4}, NOW + 10)
    assert await kept.scan("scan:", NOW + 6) == {
        "scan:1": {"n": 1, "expires_at": NOW + 10},
        "scan:x[*]": {"n": 3, "expires_at": NOW + 10},
    }
    assert set(await kept.scan("scan:x[", NOW)) == {"scan:x[*]"}  # glob characters are literal
    assert await kept.scan("none:", NOW) == {}
    assert await kept.get("scan:1", NOW) == {"n": 1, "expires_at": NOW + 10}


class _TaggedSQLiteStore(SQLiteSessionStore):
    """A store subclass of an application's own."""


async def test_a_store_subclass_keeps_what_its_kind_declared(tmp_path: Path) -> None:
    path = tmp_path / "records.db"
    async with _TaggedSQLiteStore(path) as tagged, SQLiteSessionStore(path) as plain:
        mine, theirs = side_records_for(tagged), side_records_for(plain)
        assert await mine.claim("k", {"n": 1}, NOW + 10, NOW) is None
        assert await theirs.get("k", NOW) == {"n": 1, "expires_at": NOW + 10}
        await mine.delete("k")
        vectors = vector_backend_for(tagged)
        try:
            assert await vectors.holding(["s"]) == []
        finally:
            await vectors.close()


def test_a_kind_of_store_that_declared_nothing_keeps_neither() -> None:
    for lookup in (side_records_for, vector_backend_for):
        with pytest.raises(InvalidInputError) as raised:
            lookup(object())
        assert (raised.value.field, raised.value.value) == ("store", "object")
