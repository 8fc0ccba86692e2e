"""``search(mode="semantic" | "hybrid")`` on every store, with a deterministic embedder made
here: words hashed into 64 dimensions, with a few words mapped to one shared concept so that
meaning finds what words alone do not."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import sqlite3
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest
from erasure_data import forget_erasures

from llm_sessions.exceptions import InvalidInputError, InvalidSessionOperation
from llm_sessions.models import EventSource, Session, SessionEvent
from llm_sessions.storage import IndexStatus, SessionStore, SQLiteSessionStore, open_store
from llm_sessions.storage._vector_stores import vector_backend_for
from llm_sessions.storage.encryption import generate_key

if TYPE_CHECKING:
    from store_cases import StoreCase

DIM = 64
CONCEPTS = {
    "refund": "money-back",
    "reimbursement": "money-back",
    "repayment": "money-back",
    "feline": "cat",
    "kitten": "cat",
    "cats": "cat",
}
FILLER = [
    "the weather is mild today",
    "please summarise the meeting notes",
    "what time does the store open",
    "the train was late again this morning",
]


def bag_of_words(texts: list[str]) -> list[list[float]]:
    """Each word (or its concept) adds 1 to the dimension its hash picks."""
    vectors = []
    for text in texts:
        vector = [0.0] * DIM
        for word in text.lower().split():
            word = CONCEPTS.get(word.strip(".,?!"), word.strip(".,?!"))
            vector[hashlib.sha256(word.encode()).digest()[0] % DIM] += 1.0
        vectors.append(vector)
    return vectors


async def async_bag_of_words(texts: list[str]) -> list[list[float]]:
    return bag_of_words(texts)


bag_of_words.name = "bag-of-words-64"  # type: ignore[attr-defined]


async def saved(
    store: SessionStore, *texts: str, user: str | None = None, sid: str | None = None
) -> Session[Any]:
    session: Session[Any] = Session() if sid is None else Session(id=sid)
    session.metadata.user_id = user
    for text in texts:
        await session.add_event(SessionEvent(message=text, source=EventSource.USER))
    await store.save(session)
    return session


def reader_of(case: StoreCase, store: SessionStore) -> SessionStore:
    """A fresh store object on the same data (with the embedder, to embed queries)."""
    return case.open(embedder=bag_of_words) if case.durable else store


async def test_semantic_search_finds_events_by_meaning(store_case: StoreCase) -> None:
    store = store_case.open(embedder=bag_of_words)
    await saved(store, *FILLER, user="filler")
    session = await saved(store, "my refund never arrived", "I like tea", user="alice")
    await store.flush_index()
    reader = reader_of(store_case, store)
    assert (await reader.search("reimbursement")).items == []  # no such word anywhere
    page = await reader.search("reimbursement", mode="semantic", limit=3)
    top = page.items[0]
    assert (top.session_id, top.event_id, top.user_id) == (
        session.id,
        session.events[0].id,
        "alice",
    )
    assert top.snippet == "my refund never arrived" and top.event_type == "message"
    assert top.score > page.items[1].score
    status = store.index_status()
    assert isinstance(status, IndexStatus)
    assert (status.embedder, status.pending, status.failures) == ("bag-of-words-64", 0, 0)
    assert status.indexed == len(FILLER) + 2


async def test_hybrid_search_fuses_both_rankings(store_case: StoreCase) -> None:
    store = store_case.open(embedder=async_bag_of_words)
    await saved(store, *FILLER)
    both = await saved(store, "refund for the kitten food")
    meaning = await saved(store, "reimbursement of the feline vet bill")
    words = await saved(store, "kitten refund")
    await store.flush_index()
    page = await store.search("kitten refund", mode="hybrid", limit=3)
    found = [hit.event_id for hit in page.items]
    assert set(found) == {both.events[0].id, meaning.events[0].id, words.events[0].id}
    assert page.items[0].score >= page.items[1].score >= page.items[2].score > 0
    assert "[kitten]" in next(h.snippet for h in page.items if h.event_id == both.events[0].id)


async def test_semantic_pages_return_each_hit_once(store_case: StoreCase) -> None:
    store = store_case.open(embedder=bag_of_words)
    await saved(store, *(f"refund number {n}" for n in range(7)), *FILLER)
    await store.flush_index()
    for mode in ("semantic", "hybrid"):
        seen, cursor = [], None
        while True:
            page = await store.search("repayment", mode=mode, limit=3, cursor=cursor)
            seen.extend(hit.event_id for hit in page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) >= 7
    whole = await store.search("repayment", mode="semantic", limit=100)
    with pytest.raises(InvalidInputError, match="cursor"):
        await store.search("repayment", mode="text", cursor=whole.next_cursor or "x.y")


async def test_removed_edited_deleted_and_erased_events_never_appear(
    store_case: StoreCase,
) -> None:
    store = store_case.open(embedder=bag_of_words)
    await saved(store, *FILLER)
    session = await saved(store, "the kitten stays", "the feline goes", user="carol")
    gone = session.events[1]
    await store.flush_index()
    await session.remove_events([gone.id])
    await store.save(session)
    page = await store.search("cats", mode="semantic", where={"user_id": "carol"})
    assert [hit.event_id for hit in page.items] == [session.events[0].id]
    await store.flush_index()
    backend = vector_backend_for(store)
    assert await backend.event_ids(session.id) == {session.events[0].id}
    other = await saved(store, "a kitten to erase", user="dave")
    await store.flush_index()
    await store.delete(session.id)
    assert (await store.search("cats", mode="semantic", where={"user_id": "carol"})).items == []
    receipt = await store.erase(where={"user_id": "dave"})
    assert receipt.counts["vectors"] == 1
    assert await backend.holding([other.id]) == []
    hybrid = await store.search("kitten", mode="hybrid")
    assert {hit.session_id for hit in hybrid.items}.isdisjoint({session.id, other.id})
    await backend.close()
    await forget_erasures(store)  # the erasure's audit record


async def test_an_edited_event_is_embedded_again(durable_case: StoreCase) -> None:
    store = durable_case.open(embedder=bag_of_words)
    await saved(store, *FILLER)
    session = await saved(store, "the weather report")
    await store.flush_index()
    session.events[0].message = "a refund request"
    await store.save(session)
    await store.flush_index()
    page = await reader_of(durable_case, store).search("repayment", mode="semantic", limit=1)
    assert [hit.snippet for hit in page.items] == ["a refund request"]


async def test_tenants_and_users_see_only_their_own_vectors(store_case: StoreCase) -> None:
    store = store_case.open(embedder=bag_of_words)
    mine = await saved(store, "refund please", sid="tenant-a--1", user="erin")
    await saved(store, "refund please", sid="tenant-b--1", user="erin")
    await saved(store, "refund please", sid="tenant-a--2", user="frank")
    await store.flush_index()
    for mode in ("semantic", "hybrid"):
        page = await store.search(
            "repayment refund", mode=mode, prefix="tenant-a--", where={"user_id": "erin"}
        )
        assert [(hit.session_id, hit.event_id) for hit in page.items] == [
            (mine.id, mine.events[0].id)
        ]


async def test_an_encrypted_store_refuses_vectors_unless_indexing_in_clear(
    durable_case: StoreCase,
) -> None:
    key = generate_key()
    with pytest.raises(InvalidSessionOperation, match="search_index='plaintext'"):
        durable_case.open(encryption_key=key, embedder=bag_of_words)
    with pytest.raises(InvalidSessionOperation, match="search_index='off'"):
        durable_case.open(search_index="off", embedder=bag_of_words)
    clear = durable_case.open(encryption_key=key, search_index="plaintext", embedder=bag_of_words)
    one = await saved(clear, "a refund in clear")
    await clear.flush_index()
    page = await clear.search("repayment", mode="semantic")
    assert [hit.event_id for hit in page.items] == [one.events[0].id]


async def test_a_failing_embedder_is_retried_and_reported_never_losing_events(
    store_case: StoreCase, caplog: pytest.LogCaptureFixture
) -> None:
    calls = {"n": 0}
    pauses: list[float] = []

    def flaky(texts: list[str]) -> list[list[float]]:
        calls["n"] += 1
        if calls["n"] <= 3:
            raise ConnectionError("provider unavailable")
        return bag_of_words(texts)

    async def no_wait(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 1:  # saved again while the embedder fails
            await session.add_event(SessionEvent(message="kitten", source=EventSource.USER))
            await store.save(session)

    store = store_case.open()
    store.use_embedder(flaky, name="flaky", sleep=no_wait)
    with caplog.at_level(logging.WARNING, logger="llm_sessions.vectors"):
        session = await saved(store, "refund now")
        await store.flush_index()
    assert pauses == [0.5, 1.0, 2.0]
    assert sum("provider unavailable" in r.getMessage() for r in caplog.records) == 3
    status = store.index_status()
    assert (status.failures, status.pending, status.indexed, status.last_error) == (3, 0, 2, None)
    page = await store.search("repayment", mode="semantic")
    assert [hit.event_id for hit in page.items] == [e.id for e in session.events]
    page = await store.search("cats", mode="semantic")
    assert [hit.event_id for hit in page.items] == [e.id for e in reversed(session.events)]


async def test_a_hanging_embedder_never_holds_up_appends(store_case: StoreCase) -> None:
    entered, release = asyncio.Event(), asyncio.Event()

    async def hanging(texts: list[str]) -> list[list[float]]:
        entered.set()
        await release.wait()
        return bag_of_words(texts)

    store = store_case.open(embedder=hanging)
    session = await saved(store, "refund one")
    await entered.wait()  # the embedder holds the first batch and does not answer
    for n in range(5):
        await session.add_event(SessionEvent(message=f"refund {n}", source=EventSource.USER))
        await store.save(session)  # each returns although the embedder hangs
    reader = store_case.reader(store)
    assert len((await reader.get(session.id)).events) == 6  # type: ignore[union-attr]
    assert store.index_status().pending >= 5
    release.set()
    await store.flush_index()
    page = await store.search("repayment", mode="semantic", limit=10)
    assert len(page.items) == 6


async def test_reindex_embeds_earlier_events_and_rebuilds_for_a_new_model(
    store_case: StoreCase,
) -> None:
    store = store_case.open()  # no embedder: a file or schema without any vector table
    session = await saved(store, "refund before the embedder", *FILLER)
    with pytest.raises(InvalidSessionOperation, match="embedder"):
        await store.search("repayment", mode="semantic")
    assert await store.reindex(bag_of_words) == 1
    page = await store.search("repayment", mode="semantic", limit=1)
    assert [hit.event_id for hit in page.items] == [session.events[0].id]

    def other_model(texts: list[str]) -> list[list[float]]:
        return [[*vector, 1.0] for vector in bag_of_words(texts)]  # 65 dimensions

    await store.reindex(other_model, name="other-65")
    backend = vector_backend_for(store)
    loaded = await backend.load([session.id], "other-65", DIM + 1)
    assert len(loaded.keys) == 1 + len(FILLER)
    assert (await backend.load([session.id], "bag-of-words-64", DIM)).keys == []
    await backend.close()
    assert (await store.search("repayment", mode="semantic", limit=1)).items[0].event_id == (
        session.events[0].id
    )


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"mode": "fuzzy"}, "mode"),
        ({"mode": ["semantic"]}, "mode"),
    ],
)
async def test_bad_modes_are_refused_by_name(options: dict[str, Any], name: str) -> None:
    store = open_store("memory://", embedder=bag_of_words)
    with pytest.raises(InvalidInputError, match=name):
        await store.search("refund", **options)
    await store.close()


async def test_bad_embedders_are_refused_or_reported() -> None:
    with pytest.raises(InvalidInputError, match="embedder"):
        open_store("memory://", embedder="text-embedding-3-small")
    store = open_store("memory://")
    with pytest.raises(InvalidInputError, match="max_pending"):
        store.use_embedder(bag_of_words, max_pending=0)
    with pytest.raises(InvalidSessionOperation, match="embedder"):
        store.index_status()

    failed, never = asyncio.Event(), asyncio.Event()

    async def pause(seconds: float) -> None:
        failed.set()
        await never.wait()  # the retry waits until the store closes

    store.use_embedder(lambda texts: [[1.0, 2.0]], name="one-vector", sleep=pause)
    session = await saved(store, "two", "events")
    await failed.wait()
    status = store.index_status()
    assert (status.failures, status.pending, status.indexed) == (1, 2, 0)
    assert "one vector" in (status.last_error or "")
    assert await store.get(session.id) is session  # the events are kept
    await store.close()


async def test_a_sqlite_file_from_before_vectors_gets_them_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    async with SQLiteSessionStore(path) as store:
        session = await saved(store, "refund please", "lunch at noon")
    with sqlite3.connect(path) as conn:
        version = conn.execute("PRAGMA user_version").fetchone()
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "llm_sessions_vectors" not in tables
    async with open_store(f"sqlite:///{path}", embedder=bag_of_words) as upgraded:
        assert await upgraded.reindex() == 1
        page = await upgraded.search("repayment", mode="semantic", limit=1)
        assert [hit.event_id for hit in page.items] == [session.events[0].id]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == version  # no new version
        assert conn.execute("SELECT count(*) FROM llm_sessions_vectors").fetchone() == (2,)


@pytest.mark.postgres
async def test_a_postgres_schema_from_before_vectors_gets_them_in_place(
    postgres_url: str,
) -> None:
    schema = f"test_{uuid.uuid4().hex[:12]}"
    url = f"{postgres_url}?schema={schema}"
    try:
        async with open_store(url) as store:
            session = await saved(store, "refund please", "lunch at noon")
        async with open_store(url, embedder=bag_of_words) as upgraded:
            assert await upgraded.reindex() == 1
            page = await upgraded.search("repayment", mode="semantic", limit=1)
            assert [hit.event_id for hit in page.items] == [session.events[0].id]
        connection = await asyncpg.connect(postgres_url)
        count = await connection.fetchval(f'SELECT count(*) FROM "{schema}".llm_sessions_vectors')
        await connection.close()
        assert count == 2
    finally:
        connection = await asyncpg.connect(postgres_url)
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await connection.close()


@pytest.mark.parametrize("cache_bytes", [0, 2**20])
async def test_a_reader_keeping_vectors_sees_what_other_writers_add(
    durable_case: StoreCase, cache_bytes: int
) -> None:
    writer = durable_case.open(embedder=bag_of_words)
    first = await saved(writer, "refund one", *FILLER)
    await writer.flush_index()
    reader = durable_case.open()
    reader.use_embedder(bag_of_words, cache_bytes=cache_bytes)
    page = await reader.search("repayment", mode="semantic", limit=1)
    assert [hit.event_id for hit in page.items] == [first.events[0].id]
    await first.add_event(SessionEvent(message="refund refund", source=EventSource.USER))
    await writer.save(first)
    later = await saved(writer, "a refund for the kitten")
    await writer.flush_index()
    page = await reader.search("repayment", mode="semantic", limit=3)
    assert {hit.event_id for hit in page.items} == {
        first.events[0].id,
        first.events[-1].id,
        later.events[0].id,
    }


async def test_bad_cache_sizes_are_refused_by_name() -> None:
    store = open_store("memory://")
    with pytest.raises(InvalidInputError, match="cache_bytes"):
        store.use_embedder(bag_of_words, cache_bytes=-1)
    await store.close()


async def test_events_written_while_the_index_was_off_are_found_after_reindex(
    durable_case: StoreCase,
) -> None:
    off = durable_case.open(search_index="off")
    session = await saved(off, "refund while off", *FILLER, user="gina")
    await session.remove_events([session.events[1].id])
    await off.save(session)
    store = durable_case.open(embedder=bag_of_words)
    assert await store.reindex() == 1
    assert store.index_status().indexed == len(FILLER)
    page = await store.search("repayment", mode="semantic", limit=1, where={"user_id": "gina"})
    hit = page.items[0]
    assert (hit.event_id, hit.user_id, hit.snippet) == (
        session.events[0].id,
        "gina",
        "refund while off",
    )


async def test_an_erasure_while_its_events_are_being_embedded_leaves_no_vectors(
    store_case: StoreCase,
) -> None:
    entered, release = asyncio.Event(), asyncio.Event()

    async def hanging(texts: list[str]) -> list[list[float]]:
        entered.set()
        await release.wait()
        return bag_of_words(texts)

    store = store_case.open(embedder=hanging)
    session = await saved(store, "refund to erase", user="hank")
    await entered.wait()  # its text is with the embedder
    receipt = await store.erase(where={"user_id": "hank"})
    assert receipt.counts["vectors"] == 1
    release.set()
    await store.flush_index()
    backend = vector_backend_for(store)
    assert await backend.holding([session.id]) == []
    await backend.close()
    await forget_erasures(store)  # the erasure's audit record
