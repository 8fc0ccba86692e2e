"""list and usage over many sessions: filters, sort and totals from the stores' summaries."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cli_helpers import invoke

from llm_sessions.models import EventSource, Session, SessionEvent, SessionMetadata, TokenUsage
from llm_sessions.storage import open_store

DAY = datetime(2026, 11, 29, tzinfo=UTC)
SESSIONS = [  # id, user, day after DAY, tokens, team
    ("a-old", "alice", 0, 50, "red"),
    ("a-cheap", "alice", 2, 10, "red"),
    ("a-dear", "alice", 3, 900, "blue"),
    ("b-one", "bob", 3, 300, "red"),
]


def put_owned(store_url: str) -> None:
    """The ``SESSIONS``, each with one priced event on its day (no wall clock)."""

    async def main() -> None:
        store = open_store(store_url)
        try:
            for session_id, user, day, tokens, team in SESSIONS:
                created = DAY + timedelta(days=day)
                metadata = SessionMetadata(created_at=created, updated_at=created, user_id=user)
                session: Session[Any] = Session(id=session_id, metadata=metadata)
                session.metadata.properties = {"team": team}
                await store.save(session)
                usage = TokenUsage(prompt_tokens=tokens, completion_tokens=0, model="gpt-4o")
                await session.add_event_and_save(
                    SessionEvent(
                        message="hi",
                        source=EventSource.USER,
                        token_usage=usage,
                        timestamp=created + timedelta(hours=1),
                    )
                )
        finally:
            await store.close()

    asyncio.run(main())


def listed(store_url: str, *args: str) -> list[dict[str, Any]]:
    result = invoke("list", "--store", store_url, "--json", *args)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def test_list_filters_by_user_and_date_and_sorts_by_cost(store_url: str) -> None:
    put_owned(store_url)

    rows = listed(store_url, "--where", "user_id=alice", "--since", "2026-12-01", "--sort", "-cost")
    top = listed(store_url, "--sort", "-cost", "--limit", "2")
    red = listed(store_url, "--where", "team=red", "--sort", "created_at")

    assert [row["id"] for row in rows] == ["a-dear", "a-cheap"]
    assert rows[0]["user_id"] == "alice" and rows[0]["properties"] == {"team": "blue"}
    assert [row["id"] for row in top] == ["a-dear", "b-one"]
    assert [row["id"] for row in red] == ["a-old", "a-cheap", "b-one"]


def test_list_table_counts_the_matching_sessions_and_shows_users(store_url: str) -> None:
    put_owned(store_url)

    table = invoke("list", "--store", store_url, "--where", "team=red", "--limit", "2").output

    assert "sessions 1–2 of 3" in table
    assert "bob" in table and "a-old" not in table


def test_usage_by_user_and_day_as_table_json_and_csv(store_url: str) -> None:
    put_owned(store_url)

    as_json = invoke("usage", "--store", store_url, "--by", "user_id", "--by", "day", "--json")
    as_csv = invoke("usage", "--store", store_url, "--by", "user_id", "--csv")
    table = invoke("usage", "--store", store_url, "--by", "team", "--since", "2026-12-01")

    rows = json.loads(as_json.stdout)
    assert [(r["key"], r["sessions"], r["tokens"]) for r in rows] == [
        ({"user_id": "alice", "day": "2026-11-29"}, 1, 50),
        ({"user_id": "alice", "day": "2026-12-01"}, 1, 10),
        ({"user_id": "alice", "day": "2026-12-02"}, 1, 900),
        ({"user_id": "bob", "day": "2026-12-02"}, 1, 300),
    ]
    records = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(r["user_id"], r["sessions"], r["tokens"]) for r in records] == [
        ("alice", "3", "960"),
        ("bob", "1", "300"),
    ]
    assert float(records[0]["cost_usd"]) > 0
    assert table.exit_code == 0 and "blue" in table.output and "red" in table.output


@pytest.mark.parametrize(
    ("args", "code", "named"),
    [
        (["list", "--sort", "price"], 1, "order"),
        (["list", "--since", "last week"], 1, "since"),
        (["list", "--where", "team"], 2, "--where"),
        (["usage", "--by", "day", "--by", "day"], 1, "group_by"),
        (["usage", "--json", "--csv"], 2, "--csv"),
    ],
)
def test_bad_filters_are_named(store_url: str, args: list[str], code: int, named: str) -> None:
    put_owned(store_url)

    result = invoke(*args, "--store", store_url)

    assert result.exit_code == code
    assert named in result.output
