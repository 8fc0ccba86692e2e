"""erase, audit and export --user: a user's sessions exported whole, then erased after a
question (or --yes), with a receipt and an audit record."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from cli_helpers import OnStore, invoke

from llm_sessions.interop import jsonl

sys.path.insert(0, str(Path(__file__).parents[1] / "storage"))
from erasure_data import ALICE_TEXT, BOB_TEXT, write_people


def test_export_user_writes_every_session_of_hers_whole(
    store_url: str, on_store: OnStore, tmp_path: Path
) -> None:
    people = on_store(write_people)
    out = tmp_path / "alice.jsonl"
    result = invoke("export", "--store", store_url, "--user", "alice", "--output", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    sessions = jsonl.parse(text)
    assert {session.id for session in sessions} == people.alice
    assert sum(len(session.events) for session in sessions) == 11
    assert ALICE_TEXT in text and BOB_TEXT not in text


def test_export_wants_one_of_an_id_and_a_user(store_url: str, on_store: OnStore) -> None:
    on_store(write_people)
    for args in ([], ["alice-root", "--user", "alice"]):
        result = invoke("export", "--store", store_url, *args)
        assert result.exit_code == 1
        assert "give a session id or --user" in result.stderr
    result = invoke("export", "--store", store_url, "--user", "alice", "--format", "openai")
    assert result.exit_code == 1 and "JSON Lines only" in result.stderr


def test_erase_asks_then_erases_and_the_audit_log_says_so(
    store_url: str, on_store: OnStore, stored_ids: Callable[[], set[str]]
) -> None:
    people = on_store(write_people)
    refused = invoke("erase", "--store", store_url, "--user", "alice", input="n\n")
    assert refused.exit_code == 1 and "nothing erased" in refused.stderr
    assert "Erase 6 sessions (11 events) of user 'alice'" in refused.stdout
    assert stored_ids() == people.alice | people.bob
    result = invoke("erase", "--store", store_url, "--user", "alice", input="y\n")
    assert result.exit_code == 0, result.output
    assert "erased 6 sessions, 11 events, 0 vectors, 0 blobs of user 'alice'" in result.stdout
    assert stored_ids() == people.bob
    audit = invoke("audit", "--store", store_url, "--json")
    [record] = json.loads(audit.stdout)
    assert record["filter"] == {"where": {"user_id": "alice"}, "all": False}
    assert record["counts"] == {"sessions": 6, "events": 11, "blobs": 0, "vectors": 0}
    table = invoke("audit", "--store", store_url, columns=200)
    assert "user_id" in table.stdout and "alice" in table.stdout


def test_erase_yes_json_prints_the_receipt(store_url: str, on_store: OnStore) -> None:
    people = on_store(write_people)
    result = invoke(
        "erase", "--store", store_url, "--user", "alice", "--yes", "--json", "--actor", "dpo"
    )
    assert result.exit_code == 0, result.output
    receipt = json.loads(result.stdout)
    assert set(receipt["session_ids"]) == people.alice
    assert receipt["actor"] == "dpo"
    nobody = invoke("erase", "--store", store_url, "--user", "carol")
    assert nobody.exit_code == 1 and "has no sessions" in nobody.stderr
    assert invoke("audit", "--store", store_url).exit_code == 0
