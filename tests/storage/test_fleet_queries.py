"""``find_sessions`` and ``usage`` on every store: answers equal what loading every session
computes, pages return each session once while others write, and bad arguments are named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from expiry_control import time_passes

from llm_sessions import SessionManager, SessionSummary
from llm_sessions.exceptions import InvalidInputError
from llm_sessions.models import EventSource, Session, SessionEvent, SessionMetadata, TokenUsage
from llm_sessions.storage import SessionStore
from llm_sessions.storage._fleet_query import (
    SessionQuery,
    UsageQuery,
    UsageRow,
    find_in,
    usage_in,
)

if TYPE_CHECKING:
    from conftest import StoreCase

DAY = datetime(2026, 3, 1, tzinfo=UTC)


async def every_page(store: SessionStore, **query: Any) -> list[SessionSummary]:
    """Every summary ``find_sessions`` returns, page by page."""
    rows: list[SessionSummary] = []
    cursor = None
    while True:
        page = await store.find_sessions(**query, cursor=cursor)
        rows.extend(page.items)
        if page.next_cursor is None:
            return rows
        cursor = page.next_cursor


async def loaded_summaries(store: SessionStore) -> dict[str, SessionSummary]:
    """What a full load of every session computes (the base store's way)."""
    rows = {row.id: row for row in await SessionStore.session_summaries(store)}
    assert set(rows) == set(await store.list_sessions())
    for session_id, row in rows.items():
        session = await store.get(session_id)
        assert session is not None
        assert row.total_tokens == session.total_tokens
        assert row.total_cost_usd == session.total_cost
        assert row.unpriced_models == sorted(session.token_summary.unpriced_models)
        assert row.event_count == len(session.events)
        assert row.user_id == session.metadata.user_id
        assert row.updated_at == session.metadata.updated_at
    return rows


async def assert_matches_a_full_load(store: SessionStore, fresh: SessionStore) -> None:
    expected = await loaded_summaries(fresh)
    for reader in (store, fresh):
        listed = await every_page(reader, order="created_at", limit=3)
        assert {row.id: row for row in listed} == expected
        total = await reader.usage(group_by=())
        assert len(total) == 1
        assert total[0].sessions == len(expected)
        assert total[0].events == sum(row.event_count for row in expected.values())
        assert total[0].tokens == sum(row.total_tokens for row in expected.values())
        assert total[0].cost_usd == pytest.approx(
            sum(row.total_cost_usd for row in expected.values()), rel=1e-12
        )
        for grouping, where in GROUPINGS:
            query = UsageQuery.checked(group_by=grouping, where=where)
            wanted = usage_in(expected.values(), query)
            got = await reader.usage(group_by=grouping, where=where)
            assert [_counts(row) for row in got] == [_counts(row) for row in wanted]
            assert [row.cost_usd for row in got] == pytest.approx(
                [row.cost_usd for row in wanted], rel=1e-12
            )


GROUPINGS: list[tuple[tuple[str, ...], dict[str, Any] | None]] = [
    (("model", "day"), None),
    (("user_id", "model", "month"), None),
    (("day",), {"user_id": "alice"}),
    (("model",), {"user_id": None}),
]


def _counts(row: UsageRow) -> tuple[Any, ...]:
    return (row.key, row.sessions, row.events, row.tokens, row.unpriced_models)


async def conversation(store: SessionStore, user: str, model: str) -> SessionManager:
    manager = SessionManager(
        store=store, infinite_context=True, max_turns_per_segment=2, user_id=user
    )
    for n in range(3):
        await manager.user_says(f"{user} asks {n}")
        await manager.ai_responds(
            f"reply {n}", model=model, usage={"prompt_tokens": 10 + n, "completion_tokens": 5}
        )
    await manager.tool_used("search", {"q": "x"}, None, error="timeout")
    return manager


async def test_totals_equal_a_full_load_through_every_change(store_case: StoreCase) -> None:
    store = store_case.open()
    fresh = store_case.reader(store)
    alice = await conversation(store, "alice", "gpt-4o-mini")
    bob = await conversation(store, "bob", "model-without-a-price")
    plain: Session[Any] = Session()  # no user, no model: only events without token usage
    await plain.add_event(SessionEvent(message="note", source=EventSource.USER))
    await store.save(plain)
    await assert_matches_a_full_load(store, fresh)

    await alice.pop_last_turn()
    await bob.ai_responds(
        "more", model="gpt-4o", usage={"prompt_tokens": 3, "completion_tokens": 4}
    )
    await assert_matches_a_full_load(store, fresh)

    fork = await alice.fork()
    await fork.user_says("in the fork")
    await assert_matches_a_full_load(store, fresh)

    await bob.delete()
    await store.delete((await alice.get_session_chain())[-1])
    await assert_matches_a_full_load(store, fresh)


async def test_summaries_hold_the_chain_user_and_errors(store_case: StoreCase) -> None:
    store = store_case.open()
    manager = await conversation(store, "alice", "gpt-4o-mini")
    chain = await manager.get_session_chain()
    fork = await manager.fork()

    rows = {row.id: row for row in await every_page(store)}

    assert set(rows) == {*chain, fork.session_id}
    assert {row.root_id for row in rows.values()} == {chain[0]}
    assert {row.user_id for row in rows.values()} == {"alice"}
    assert rows[chain[-1]].has_errors and not rows[chain[0]].has_errors
    assert rows[chain[0]].models == ["gpt-4o-mini"]
    assert rows[chain[1]].parent_id == chain[0]

    await store.delete(chain[-1])  # the segment the fork hangs from
    rows = {row.id: row for row in await every_page(store_case.reader(store))}
    assert rows[fork.session_id].root_id == chain[0]


async def dated_session(
    store: SessionStore, user: str, day: int, tokens: int, **props: Any
) -> Session[Any]:
    """A session created on ``DAY`` + ``day`` days (no wall clock) with one event later that
    day using ``tokens`` tokens."""
    created = DAY + timedelta(days=day)
    metadata = SessionMetadata(created_at=created, updated_at=created, user_id=user)
    session: Session[Any] = Session(metadata=metadata)
    session.metadata.properties = props
    await store.save(session)
    usage = TokenUsage(prompt_tokens=tokens, completion_tokens=0, model="gpt-4o-mini")
    event = SessionEvent(
        message="hi",
        source=EventSource.USER,
        token_usage=usage,
        timestamp=created + timedelta(hours=tokens % 24),
    )
    await session.add_event_and_save(event)
    return session


async def test_filters_orders_and_windows(store_case: StoreCase) -> None:
    store = store_case.open()
    for n in range(6):
        await dated_session(store, "alice" if n % 2 else "bob", n, 100 + n, tier=n % 3, vip=n == 4)

    alice = await every_page(store, where={"user_id": "alice"}, order="tokens", limit=2)
    window = await every_page(store, since=DAY + timedelta(days=2), until="2026-03-05")
    vip = await every_page(store, where={"vip": True, "tier": 1})
    not_one = await every_page(store, where={"vip": 1})
    dearest = await store.find_sessions(order="-cost", limit=1)

    assert [row.total_tokens for row in alice] == [101, 103, 105]
    assert sorted(row.total_tokens for row in window) == [102, 103]
    assert [row.total_tokens for row in vip] == [104]
    assert not_one == []  # true is not 1
    assert [row.total_tokens for row in dearest.items] == [105]
    assert await every_page(store, model="gpt-4o") == []


async def test_a_least_cost_keeps_the_dearer_sessions_in_every_order(
    store_case: StoreCase,
) -> None:
    store = store_case.open()
    made = [await dated_session(store, "alice" if n % 2 else "bob", n, 1000 * n) for n in range(6)]
    costs = {session.id: session.total_cost for session in made}
    least = costs[made[3].id]
    assert 0 < least < costs[made[4].id]

    by_cost = await every_page(store, min_cost=least, order="cost", limit=1)
    newest = await every_page(store, min_cost=least, limit=2)
    alice = await every_page(store, min_cost=str(least), where={"user_id": "alice"})

    dearer = [session.id for session in made[3:]]
    assert [row.id for row in by_cost] == dearer
    assert [row.id for row in newest] == dearer[::-1]
    assert [row.id for row in alice] == [made[5].id, made[3].id]
    assert await every_page(store, min_cost=0) == await every_page(store)
    assert await every_page(store, min_cost=least * 10) == []


async def test_a_prefix_keeps_one_namespace_in_pages_and_totals(store_case: StoreCase) -> None:
    store = store_case.open()
    for n, name in enumerate(["acme.a", "acme.b", "acme-not.c", "globex.d"]):
        session = await dated_session(store, "alice", n, 10 + n)
        renamed: Session[Any] = Session(id=name, metadata=session.metadata, events=session.events)
        await store.save(renamed)
        await store.delete(session.id)

    acme = await every_page(store, prefix="acme.", order="created_at", limit=1)
    totals = await store.usage(group_by="user_id", prefix="acme.")

    assert [row.id for row in acme] == ["acme.a", "acme.b"]
    assert [(r.sessions, r.tokens) for r in totals] == [(2, 21)]
    assert len(await every_page(store, prefix="")) == 4
    with pytest.raises(InvalidInputError) as caught:
        await store.find_sessions(prefix=3)  # type: ignore[arg-type]
    assert caught.value.field == "prefix"


async def test_where_root_id_finds_every_session_of_a_chain(store_case: StoreCase) -> None:
    store = store_case.open()
    manager = await conversation(store, "alice", "gpt-4o-mini")  # several segments
    other = await dated_session(store, "alice", 0, 5)
    rows = await every_page(store, where={"user_id": "alice"})
    root_id = next(row.root_id for row in rows if row.id == manager.session_id)

    chain = await every_page(store, where={"root_id": root_id}, limit=2)

    assert len(chain) >= 2 and other.id not in {row.id for row in chain}
    assert {row.root_id for row in chain} == {root_id}
    assert manager.session_id in {row.id for row in chain}


async def test_usage_groups_by_user_day_and_property(store_case: StoreCase) -> None:
    store = store_case.open()
    for n in range(4):
        await dated_session(
            store, "alice" if n < 3 else "bob", n // 2, 10, team="red" if n else "blue"
        )

    by_user_day = await store.usage()
    by_team = await store.usage(group_by="team", where={"user_id": "alice"})
    by_model = await store.usage(group_by=["model", "month"])

    assert [(r.key, r.sessions, r.tokens) for r in by_user_day] == [
        ({"user_id": "alice", "day": "2026-03-01"}, 2, 20),
        ({"user_id": "alice", "day": "2026-03-02"}, 1, 10),
        ({"user_id": "bob", "day": "2026-03-02"}, 1, 10),
    ]
    assert [(r.key, r.sessions) for r in by_team] == [({"team": "blue"}, 1), ({"team": "red"}, 2)]
    assert [(r.key, r.events, r.tokens) for r in by_model] == [
        ({"model": "gpt-4o-mini", "month": "2026-03"}, 4, 40)
    ]


@pytest.mark.parametrize("order", ["created_at", "-created_at", "tokens", "-cost"])
async def test_paging_under_a_concurrent_writer_returns_each_session_once(
    store_case: StoreCase, order: str
) -> None:
    store = store_case.open()
    writer = store_case.open() if store_case.durable else store
    before = [await dated_session(store, f"user-{n % 3}", 0, n) for n in range(12)]
    seen: list[str] = []
    cursor = None
    for turn in range(100):
        page = await store.find_sessions(order=order, limit=5, cursor=cursor)
        seen.extend(row.id for row in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
        # Between pages: a new session, and an event appended to one already listed and to
        # one not listed yet (their sort keys for these orders do not move).
        await dated_session(writer, "late", 1, 500 + turn)
        for session in (before[turn], before[-1 - turn]):
            copy = await writer.get(session.id)
            assert copy is not None
            await copy.add_event_and_save(SessionEvent(message="later", source=EventSource.USER))

    assert len(seen) == len(set(seen))
    assert {session.id for session in before} <= set(seen)


async def test_newest_first_paging_while_sessions_are_created(store_case: StoreCase) -> None:
    store = store_case.open()
    before = {(await dated_session(store, "u", n, n)).id for n in range(9)}
    seen: list[str] = []
    cursor = None
    for n in range(100):
        page = await store.find_sessions(limit=4, cursor=cursor)
        seen.extend(row.id for row in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
        await dated_session(store, "u", 30 + n, n)  # newer than every listed one

    assert sorted(seen) == sorted(before)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"order": "price"}, "order"),
        ({"order": None}, "order"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": True}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"until": 20260301}, "until"),
        ({"since": "2026-03-02", "until": "2026-03-01"}, "until"),
        ({"where": {"team": ["a"]}}, "where['team']"),
        ({"where": {"team": {"a": 1}}}, "where['team']"),
        ({"where": {"score": float("nan")}}, "where['score']"),
        ({"where": {"": 1}}, "where"),
        ({"where": "user_id=alice"}, "where"),
        ({"model": ""}, "model"),
        ({"min_cost": -0.01}, "min_cost"),
        ({"min_cost": "cheap"}, "min_cost"),
        ({"min_cost": float("inf")}, "min_cost"),
        ({"min_cost": True}, "min_cost"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": 12}, "cursor"),
    ],
)
async def test_bad_queries_name_the_argument(
    store_case: StoreCase, query: dict[str, Any], field: str
) -> None:
    store = store_case.open()
    await dated_session(store, "alice", 0, 1)

    with pytest.raises(InvalidInputError) as caught:
        await store.find_sessions(**query)

    assert caught.value.field == field
    assert len(await every_page(store)) == 1


async def test_a_cursor_is_refused_when_edited_or_used_for_another_order(
    store_case: StoreCase,
) -> None:
    store = store_case.open()
    for n in range(3):
        await dated_session(store, "alice", n, n)
    cursor = (await store.find_sessions(limit=1)).next_cursor
    assert cursor is not None
    body, checksum = cursor.split(".")
    edited = f"{body[:-2]}AA.{checksum}"

    for bad, reason in ((edited, "checksum"), (cursor[:-3], "checksum")):
        with pytest.raises(InvalidInputError, match=reason):
            await store.find_sessions(limit=1, cursor=bad)
    with pytest.raises(InvalidInputError, match="order='-updated_at'"):
        await store.find_sessions(order="cost", cursor=cursor)


@pytest.mark.parametrize(
    ("group_by", "field"),
    [(7, "group_by"), (["day", "day"], "group_by"), ([""], "group_by"), (["a"] * 7, "group_by")],
)
async def test_bad_usage_groupings_name_the_argument(
    store_case: StoreCase, group_by: Any, field: str
) -> None:
    store = store_case.open()
    with pytest.raises(InvalidInputError) as caught:
        await store.usage(group_by=group_by)
    assert caught.value.field == field


def test_the_reference_pages_in_order_with_ties_broken_by_id() -> None:
    stamp = DAY
    rows = [
        SessionSummary(id=f"s{n}", root_id=f"s{n}", created_at=stamp, updated_at=stamp)
        for n in (3, 1, 2)
    ]
    query = SessionQuery.checked(order="-updated_at", limit=2)
    first = find_in(rows, query)
    rest = find_in(rows, SessionQuery.checked(limit=2, cursor=first.next_cursor))

    assert [row.id for row in first.items] == ["s3", "s2"]
    assert [row.id for row in rest.items] == ["s1"] and rest.next_cursor is None


async def test_usage_leaves_out_expired_sessions(durable_case: StoreCase) -> None:
    store = durable_case.open()
    sessions = [await dated_session(store, user, 0, 10) for user in ("alice", "bob", "carol")]
    assert await store.set_expiration(sessions[1].id, 1) is True
    await time_passes(durable_case, 1.2, [session.id for session in sessions])

    for reader in (store, durable_case.open()):
        by_user = await reader.usage(group_by=("user_id", "day"))
        by_model = await reader.usage(group_by="model", where={"user_id": "bob"})
        assert [(row.key["user_id"], row.sessions) for row in by_user] == [
            ("alice", 1),
            ("carol", 1),
        ]
        assert by_model == []
