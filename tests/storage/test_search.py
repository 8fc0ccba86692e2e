"""``search`` on every store: ranking, phrases, stemming, filters, pages, what is indexed,
removed and deleted content, tenants, encryption, redaction and bad queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from llm_sessions import SearchHit, SearchPage
from llm_sessions.exceptions import InvalidInputError, InvalidSessionOperation
from llm_sessions.models import EventSource, EventType, Session, SessionEvent
from llm_sessions.storage import SessionStore, open_store
from llm_sessions.storage.encryption import generate_key
from llm_sessions.storage.redaction import redact_pii

if TYPE_CHECKING:
    from store_cases import StoreCase

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
FILLER = [
    "the weather is mild today",
    "please summarise the meeting notes",
    "what time does the store open",
    "thanks, that helps a lot",
    "can you translate this sentence",
    "the train was late again this morning",
]


def event(text: Any, minute: int = 0, **kwargs: Any) -> SessionEvent[Any]:
    kwargs.setdefault("source", EventSource.USER)
    return SessionEvent(message=text, timestamp=T0 + timedelta(minutes=minute), **kwargs)


async def saved(
    store: SessionStore, *events: SessionEvent[Any], user: str | None = None, sid: str | None = None
) -> Session[Any]:
    session: Session[Any] = Session() if sid is None else Session(id=sid)
    session.metadata.user_id = user
    for one in events:
        await session.add_event(one)
    await store.save(session)
    return session


async def with_filler(store: SessionStore) -> None:
    """Events that match nothing, so that every word searched for is rare."""
    await saved(store, *(event(text) for text in FILLER), user="filler")


def texts(page: SearchPage) -> list[str]:
    return [hit.snippet for hit in page.items]


async def test_events_with_both_words_rank_above_events_with_one(store_case: StoreCase) -> None:
    store = store_case.open()
    await with_filler(store)
    both = event("the refund failed for order 42", 1)
    await saved(store, event("a refund was issued", 2), both, event("payment failed twice", 3))
    page = await store_case.reader(store).search("refund failed")
    assert len(page.items) == 3
    top = page.items[0]
    assert (top.event_id, top.event_type, top.created_at) == (both.id, "message", both.timestamp)
    assert top.score > page.items[1].score >= page.items[2].score > 0
    assert "[refund]" in top.snippet and "[failed]" in top.snippet


async def test_a_quoted_phrase_matches_only_its_words_in_order(store_case: StoreCase) -> None:
    store = store_case.open()
    await with_filler(store)
    wanted = event("sadly the refund failed yesterday")
    await saved(store, wanted, event("failed to find the refund form"), event("refund it"))
    page = await store.search('"refund failed"')
    assert [hit.event_id for hit in page.items] == [wanted.id]


async def test_words_match_by_their_stem(store_case: StoreCase) -> None:
    store = store_case.open()
    await with_filler(store)
    session = await saved(
        store, event("we refunded the customer"), event("two refunds are pending")
    )
    page = await store.search("refunding")
    assert {hit.event_id for hit in page.items} == {e.id for e in session.events}


async def test_tool_calls_replies_summaries_and_custom_types_are_searchable(
    store_case: StoreCase,
) -> None:
    store = store_case.open()
    await with_filler(store)
    call = event(
        {"tool": "lookup_invoice", "arguments": {"city": "Reykjavik"}, "result": {"tier": "gold"}},
        type=EventType.TOOL_CALL,
        source=EventSource.SYSTEM,
    )
    reply = event("Your parcel is in Zanzibar", source=EventSource.LLM)
    summary = event({"summary": "user asked about kumquats"}, type=EventType.SUMMARY)
    custom = event({"text": "retrieved the narwhal manual"}, type="retrieval")
    reference = event("a pointer to aardvark", type=EventType.REFERENCE)
    await saved(store, call, reply, summary, custom, reference)
    found = {}
    for word in ("invoice", "reykjavik", "gold", "zanzibar", "kumquat", "narwhal", "aardvark"):
        found[word] = [hit.event_id for hit in (await store.search(word)).items]
    assert found == {
        "invoice": [call.id],
        "reykjavik": [call.id],
        "gold": [call.id],
        "zanzibar": [reply.id],
        "kumquat": [summary.id],
        "narwhal": [custom.id],
        "aardvark": [],  # a prompt leaves references out
    }
    kinds = {hit.event_type for w in ("gold", "narwhal") for hit in (await store.search(w)).items}
    assert kinds == {"tool_call", "retrieval"}


async def test_filters_by_user_type_and_time(store_case: StoreCase) -> None:
    store = store_case.open()
    await with_filler(store)
    early = event("invoice one", 0)
    late = event("invoice two", 30)
    await saved(store, early, late, user="alice")
    bob = await saved(store, event("invoice three", 10, source=EventSource.LLM), user="bob")
    reader = store_case.reader(store)

    async def ids(**filters: Any) -> set[str]:
        return {hit.event_id for hit in (await reader.search("invoice", **filters)).items}

    assert await ids(where={"user_id": "alice"}) == {early.id, late.id}
    assert await ids(where={"user_id": "nobody"}) == set()
    assert await ids(since=T0 + timedelta(minutes=5)) == {late.id, bob.events[0].id}
    assert await ids(until=T0 + timedelta(minutes=5)) == {early.id}
    assert await ids(types=[EventType.MESSAGE]) == {early.id, late.id, bob.events[0].id}
    assert await ids(types=["summary"]) == set()
    users = {hit.user_id for hit in (await reader.search("invoice")).items}
    assert users == {"alice", "bob"}


async def test_pages_return_each_hit_once_best_first(store_case: StoreCase) -> None:
    store = store_case.open()
    await with_filler(store)
    events = [event("ticket " * (n % 3 + 1) + f"number {n}", n) for n in range(7)]
    await saved(store, *events[:4])
    await saved(store, *events[4:])
    seen: list[SearchHit] = []
    cursor = None
    while True:
        page = await store.search("ticket", limit=3, cursor=cursor)
        seen.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(hit.event_id for hit in seen) == sorted(e.id for e in events)
    scores = [hit.score for hit in seen]
    assert scores == sorted(scores, reverse=True)
    whole = await store.search("ticket", limit=100)
    assert [hit.event_id for hit in whole.items] == [hit.event_id for hit in seen]
    with pytest.raises(InvalidInputError, match="cursor"):
        await store.search(
            "other words", cursor=(await store.search("ticket", limit=1)).next_cursor
        )


async def test_removed_events_and_deleted_sessions_never_appear(store_case: StoreCase) -> None:
    store = store_case.open()
    await with_filler(store)
    kept = event("the walrus stays")
    gone = event("the walrus goes")
    session = await saved(store, kept, gone)
    await session.remove_events([gone.id])
    await store.save(session)
    assert [hit.event_id for hit in (await store_case.reader(store).search("walrus")).items] == [
        kept.id
    ]
    await store.delete(session.id)
    assert (await store_case.reader(store).search("walrus")).items == []


async def test_an_edited_event_is_found_by_its_new_text(durable_case: StoreCase) -> None:
    store = durable_case.open()
    await with_filler(store)
    one = event("the old wording")
    session = await saved(store, one)
    session.events[0].message = "the brand new phrasing"
    await store.save(session)
    reader = durable_case.reader(store)
    assert (await reader.search("wording")).items == []
    assert [hit.event_id for hit in (await reader.search("phrasing")).items] == [one.id]


async def test_a_tenant_prefix_keeps_other_tenants_out(store_case: StoreCase) -> None:
    store = store_case.open()
    await with_filler(store)
    mine = await saved(store, event("quarterly budget"), sid="tenant-a--1")
    await saved(store, event("quarterly budget"), sid="tenant-b--1")
    page = await store.search("budget", prefix="tenant-a--")
    assert [(hit.session_id, hit.event_id) for hit in page.items] == [(mine.id, mine.events[0].id)]


async def test_an_encrypted_store_refuses_unless_told_to_index_in_clear(
    durable_case: StoreCase,
) -> None:
    key = generate_key()
    store = durable_case.open(encryption_key=key)
    await saved(store, event("the secret llama"))
    with pytest.raises(InvalidSessionOperation, match="search_index='plaintext'"):
        await store.search("llama")
    clear = durable_case.open(encryption_key=key, search_index="plaintext")
    one = await saved(clear, event("the open llama"))
    page = await clear.search("llama")
    assert one.events[0].id in {hit.event_id for hit in page.items}
    off = durable_case.open(search_index="off")
    with pytest.raises(InvalidSessionOperation, match="search_index='off'"):
        await off.search("llama")


async def test_redaction_runs_before_indexing(store_case: StoreCase) -> None:
    store = store_case.open(redact=redact_pii)
    await with_filler(store)
    one = await saved(store, event("mail jane.doe@example.com about the gazebo"))
    reader = store_case.reader(store)
    assert (await reader.search("jane")).items == []
    assert (await reader.search("example")).items == []
    page = await reader.search("gazebo")
    assert [hit.event_id for hit in page.items] == [one.events[0].id]
    assert "example.com" not in page.items[0].snippet


@pytest.mark.parametrize(
    ("query", "field", "rule"),
    [
        ("", "query", "empty"),
        ("   ", "query", "empty"),
        ("x" * 10_000, "query", "1,000 characters"),
        ("bad \ud800 text", "query", "surrogate"),
        ("*** ::: ()", "query", "no words"),
        (42, "query", "string"),
    ],
)
async def test_bad_queries_are_refused_by_name(
    store_case: StoreCase, query: Any, field: str, rule: str
) -> None:
    store = store_case.open()
    await saved(store, event("anything"))
    with pytest.raises(InvalidInputError, match=rule) as caught:
        await store.search(query)
    assert caught.value.field == field  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "arguments",
    [
        {"limit": 0},
        {"limit": 101},
        {"where": {"user_id": ["a"]}},
        {"types": "message"},
        {"types": ["Tool-Call"]},
        {"since": "yesterday"},
        {"cursor": "nonsense"},
    ],
)
async def test_bad_filters_are_refused_by_name(
    store_case: StoreCase, arguments: dict[str, Any]
) -> None:
    store = store_case.open()
    with pytest.raises(InvalidInputError):
        await store.search("word", **arguments)


@pytest.mark.parametrize(
    "query",
    ['refund "failed', 'NEAR(refund failed) OR "', "refund* AND -failed", "^refund:failed"],
)
async def test_query_syntax_is_searched_literally(store_case: StoreCase, query: str) -> None:
    store = store_case.open()
    await with_filler(store)
    one = await saved(store, event("the refund failed"))
    page = await store.search(query)
    assert one.events[0].id in {hit.event_id for hit in page.items}


async def test_a_cursor_of_another_store_is_refused_by_name(tmp_path: Path) -> None:
    """SQLite orders ties by its index rows, the scanning stores by session and event id:
    a cursor of one is refused by the other (same query, so the same fingerprint)."""
    memory, sqlite = open_store("memory://"), open_store(f"sqlite:///{tmp_path}/s.db")
    try:
        for store in (memory, sqlite):
            await saved(store, *(event(f"ticket {n}", n) for n in range(3)), sid="same")
        for first, other in ((memory, sqlite), (sqlite, memory)):
            cursor = (await first.search("ticket", limit=1)).next_cursor
            assert cursor is not None
            with pytest.raises(InvalidInputError, match="not a cursor of this store") as caught:
                await other.search("ticket", limit=1, cursor=cursor)
            assert caught.value.field == "cursor"  # type: ignore[attr-defined]
            assert cursor[:40] in str(caught.value)  # the value, shortened
    finally:
        await sqlite.close()
