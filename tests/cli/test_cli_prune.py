"""prune: --dry-run names what a retention policy would remove and removes nothing; without
it the expired sessions are erased (audited) and long ones shortened."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from cli_helpers import OnStore, invoke

from llm_sessions.models import EventSource, Session, SessionEvent, SessionMetadata
from llm_sessions.storage import SessionStore

NOW = datetime(2027, 1, 1, tzinfo=UTC)


def dated(ages: dict[str, int], events: int = 2) -> Callable[[SessionStore], Awaitable[None]]:
    """Saves one session per ``{id: age in days at NOW}``, with ``events`` messages."""

    async def put(store: SessionStore) -> None:
        for session_id, age in ages.items():
            born = NOW - timedelta(days=age)
            metadata = SessionMetadata(created_at=born, updated_at=born)
            session: Session[str] = Session(id=session_id, metadata=metadata)
            for n in range(events):
                source = EventSource.USER if n % 2 == 0 else EventSource.LLM
                event = SessionEvent(message=f"m{n}", source=source, timestamp=born)
                await session.add_event(event)
            await store.save(session)

    return put


def test_prune_dry_run_removes_nothing_and_prune_removes_the_expired(
    store_url: str, on_store: OnStore, stored_ids: Callable[[], set[str]]
) -> None:
    on_store(dated({"ancient": 200, "old": 91, "recent": 10}))
    args = ["prune", "--store", store_url, "--max-age", "90d", "--now", NOW.isoformat()]
    preview = invoke(*args, "--dry-run")
    assert preview.exit_code == 0, preview.output
    assert "would erase 2 sessions (4 events)" in preview.stdout
    assert "ancient" in preview.stdout and "recent" not in preview.stdout
    assert stored_ids() == {"ancient", "old", "recent"}
    done = invoke(*args, "--json")
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert sorted(report["erased"]["session_ids"]) == ["ancient", "old"]
    assert report["erased"]["actor"] == "retention"
    assert stored_ids() == {"recent"}
    audit = invoke("audit", "--store", store_url, "--json")
    [record] = json.loads(audit.stdout)
    assert record["actor"] == "retention" and record["filter"]["retention"] == {"max_age": "90d"}


def test_prune_keep_last_events_shortens_long_sessions(store_url: str, on_store: OnStore) -> None:
    on_store(dated({"long": 1}, events=10))
    result = invoke("prune", "--store", store_url, "--keep-last-events", "4")
    assert result.exit_code == 0, result.output
    assert "trimmed 6 events from 1 session" in result.stdout
    session = on_store(lambda store: store.get("long"))
    assert session is not None
    assert len(session.events) == 4 + 1  # and the stub


def test_prune_refuses_a_bad_policy_naming_the_option(
    store_url: str, on_store: OnStore, stored_ids: Callable[[], set[str]]
) -> None:
    on_store(dated({"old": 100}))
    for args, named in (
        (["--max-age", "90x"], "max_age='90x'"),
        (["--max-idle", "-3d"], "max_idle='-3d'"),
        (["--keep-last-events", "0"], "keep_last_events=0"),
        ([], "names no limit"),
    ):
        result = invoke("prune", "--store", store_url, *args)
        assert result.exit_code == 1 and named in result.stderr, result.stderr
    assert stored_ids() == {"old"}
