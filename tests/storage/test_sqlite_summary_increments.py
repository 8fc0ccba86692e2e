"""The SQLite store adds a save's delta to the summary columns as increments, in the statement
that writes the session's row, without reading them: the totals stay those of a full load
(costs added in session order, bit for bit), and an append sets only the columns it changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_sqlite_store import query
from test_sqlite_summaries import full_load, listed

from llm_sessions.models import Session, SessionEvent, TokenUsage
from llm_sessions.storage import SQLiteSessionStore
from llm_sessions.storage.sqlite._summary_increments import MAX_COSTS

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


COUNTERS = "SELECT event_count, total_cost_usd, stale, revision FROM sessions WHERE id = 'one'"


async def test_an_append_sets_only_the_columns_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SQLiteSessionStore(path)
    session: Session[Any] = Session(id="one", events=[_reply(0, cost=0.5)])
    await store.save(session)
    statements: list[str] = []
    await store._run(lambda: store._conn().set_trace_callback(statements.append))

    def counters() -> str:
        """The SET list of the save's one statement that wrote the session's row."""
        # (SQLite traces a statement whose trigger runs twice: once more for the trigger.)
        [write] = {
            sql
            for sql in statements
            if sql.lstrip().startswith(("UPDATE sessions SET", "INSERT INTO sessions"))
        }
        statements.clear()
        return write.split("SET", 1)[1]

    await session.add_event_and_save(SessionEvent(message="no usage"))
    plain = counters()
    assert "event_count = event_count + 1" in plain
    for column in ("total_tokens", "total_cost_usd", "has_errors", "stale", "user_id", "root_id"):
        assert column not in plain, column
    assert query(path, COUNTERS) == [(2, 0.5, 0, 2)]

    await session.add_event_and_save(_reply(1, cost=0.25))
    priced = counters()
    assert "total_cost_usd = total_cost_usd + 0.25" in priced
    assert "model_cost_usd = model_cost_usd + 0.25" in priced
    assert "stale" not in priced
    assert query(path, COUNTERS) == [(3, 0.75, 0, 3)]

    for number in range(MAX_COSTS + 1):  # more than the increments take: the row is rewritten
        await session.add_event(_reply(number + 2, cost=0.1))
    await store.save(session)
    writes = [sql for sql in statements if "sessions SET" in sql or "INTO sessions" in sql]
    assert any("SET root_id = " in sql for sql in writes)  # read and written whole
    assert not any("total_cost_usd = total_cost_usd" in sql for sql in writes)
    assert await listed(store) == await full_load(store)
    await store.close()
