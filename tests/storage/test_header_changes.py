"""One header diff: what a save writes and what a refresh puts back are the same value."""

from __future__ import annotations

import json

from llm_sessions import Session, SessionRun
from llm_sessions.storage.sync import HeaderSnapshot, header_changes, unsaved_header_edits


def test_a_save_and_a_refresh_use_the_same_diff_serialised_only_for_the_write() -> None:
    session: Session[str] = Session(id="h")
    session.state["k"] = {"a": 1}
    session.metadata.properties["p"] = "v"
    run = SessionRun()
    session.runs.append(run)
    session.child_ids.append("c")

    changes, snapshot = header_changes(session, HeaderSnapshot())
    assert changes.state_set == {"k": {"a": 1}}  # the session's values until written
    assert changes.runs_upserted == {run.id: run}
    assert changes.runs_upserted[run.id] is run
    assert unsaved_header_edits(session, HeaderSnapshot()) == changes
    assert snapshot.child_ids == ("c",)

    written = changes.serialised()
    assert written.state_set == {"k": '{"a":1}'}
    assert written.properties_set == {"p": '"v"'}
    assert json.loads(written.runs_upserted[run.id])["id"] == run.id
    assert changes.state_set == {"k": {"a": 1}}  # serialising makes a copy


def test_reapply_puts_the_changes_on_a_fresh_header() -> None:
    session: Session[str] = Session(id="h", parent_id="p1")
    session.state["k"] = 1
    session.child_ids.append("c")
    changes = unsaved_header_edits(session, HeaderSnapshot(state={"gone": 0}))
    fresh: Session[str] = Session(id="h", state={"gone": 0, "other": 2})
    changes.reapply(fresh)
    assert fresh.parent_id == "p1"
    assert fresh.child_ids == ["c"]
    assert fresh.state == {"other": 2, "k": 1}
