"""The SQLite store adds a save's delta to the summary rows as increments, without reading
them: the totals stay those of a full load (costs added in session order, bit for bit), and an
append sets only the columns it changes."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from test_sqlite_summaries import full_load, listed

from llm_sessions.models import Session, SessionEvent, TokenUsage
from llm_sessions.storage import SQLiteSessionStore
from llm_sessions.storage._summary_delta import delta_of
from llm_sessions.storage.sqlite._summary_increments import MAX_COSTS, add_in_place

# Costs whose sum depends on the order of the additions: 0.1 + 0.2 + 0.3 != 0.1 + (0.2 + 0.3).
COSTS = (0.1, 0.2, 0.3, 1e-17, 0.7, 3.3)


def _reply(number: int, model: str = "house-model", cost: float | None = None) -> SessionEvent[Any]:
    usage = TokenUsage(prompt_tokens=number + 1, completion_tokens=2, model=model)
    if cost is not None:
        usage = usage.model_copy(update={"estimated_cost_usd": cost})
    return SessionEvent(message=f"answer {number}", token_usage=usage)


async def test_increments_equal_a_full_load_whatever_the_batch(tmp_path: Path) -> None:
    store = SQLiteSessionStore(tmp_path / "s.db")
    session: Session[Any] = Session(id="batches")
    await store.save(session)
    number = 0
    # One event, several in one save, more priced events than the increments take, unpriced.
    for batch in (1, 3, 1, MAX_COSTS + 2, 2):
        for _ in range(batch):
            await session.add_event(_reply(number, cost=COSTS[number % len(COSTS)]))
            number += 1
        await store.save(session)
    await session.add_event(_reply(number, model="unpriced-model"))
    await session.add_event(SessionEvent(message="no usage"))
    await store.save(session)

    expected = await full_load(store)
    assert await listed(store) == expected
    row = expected["batches"]
    assert row.event_count == number + 2
    assert row.unpriced_models == ["unpriced-model"]
    assert row.model_usage["house-model"].events == number
    assert row.model_usage["unpriced-model"].priced is False
    await store.close()


async def test_an_append_sets_only_the_columns_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SQLiteSessionStore(path)
    await store.save(Session(id="one", events=[_reply(0, cost=0.5)]))
    await store.close()
    statements: list[str] = []
    connection = sqlite3.connect(path)
    try:
        connection.set_trace_callback(statements.append)
        plain = delta_of([SessionEvent(message="no usage")], recount=False)
        assert add_in_place(connection, "one", plain, stale=False)
        assert add_in_place(connection, "missing", plain, stale=False) is False
        [update, _] = [sql for sql in statements if sql.startswith("UPDATE summaries")]
        for column in ("total_tokens", "total_cost_usd", "has_errors", "stale", "user_id"):
            assert column not in update, column
        row = connection.execute(
            "SELECT event_count, total_cost_usd, stale, revision FROM summaries WHERE id = 'one'"
        ).fetchone()
        assert row == (2, 0.5, 0, 1)
        priced = delta_of([_reply(1, cost=0.25)], recount=False)
        assert add_in_place(connection, "one", priced, stale=True)
        row = connection.execute(
            "SELECT event_count, total_cost_usd, stale FROM summaries WHERE id = 'one'"
        ).fetchone()
        assert row == (3, 0.75, 1)
        too_many = delta_of([_reply(n, cost=0.1) for n in range(MAX_COSTS + 1)], recount=False)
        assert add_in_place(connection, "one", too_many, stale=False) is False
        connection.rollback()
    finally:
        connection.close()
