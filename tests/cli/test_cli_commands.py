"""The llm-sessions command: the demo and the session commands, through typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import put_sessions
from typer.testing import CliRunner

from llm_sessions.cli.main import app

runner = CliRunner()


def _demo(store_url: str) -> str:
    result = runner.invoke(app, ["demo", "--store", store_url])
    assert result.exit_code == 0, result.output
    return result.output


def _session_ids(store_url: str) -> list[str]:
    result = runner.invoke(app, ["list", "--store", store_url, "--json"])
    assert result.exit_code == 0, result.output
    return [row["id"] for row in json.loads(result.output)]


def test_demo_records_tools_errors_retries_and_a_new_segment(store_url: str) -> None:
    output = _demo(store_url)
    assert "offline" in output
    assert "segment 1" in output and "segment 2" in output
    assert "summary" in output
    assert "weather" in output and "calculator" in output and "search" in output
    assert "✗ error" in output  # the tool that raises
    assert "2 attempts" in output  # the tool that is retried
    assert "(attempt 2)" in output  # the model asked again after an unknown tool
    assert "unpriced" in output  # the model without a public price
    assert "2 segments" in output and "6 tool calls" in output


def test_demo_output_is_stored_and_can_be_shown_exported_and_deleted(
    store_url: str, tmp_path: Path
) -> None:
    _demo(store_url)
    rows = json.loads(runner.invoke(app, ["list", "--store", store_url, "--json"]).output)
    assert len(rows) == 2
    root, second = sorted(rows, key=lambda row: row["parent_id"] is not None)
    assert second["parent_id"] == root["id"]  # the second segment is a child of the first
    assert all(row["events"] > 0 and row["total_tokens"] > 0 for row in rows)
    ids = [row["id"] for row in rows]

    shown = runner.invoke(app, ["show", ids[0], "--store", store_url])
    assert shown.exit_code == 0, shown.output
    assert "tool_call" in shown.output and "Tokens and cost by model" in shown.output

    out = tmp_path / "events.jsonl"
    exported = runner.invoke(app, ["export", ids[0], "--store", store_url, "--output", str(out)])
    assert exported.exit_code == 0, exported.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    events = [record for record in records if record["record"] == "event"]
    assert {e["type"] for e in events} >= {"message", "tool_call"}
    assert all(e["id"] for e in events)

    as_chat = runner.invoke(app, ["export", ids[0], "--store", store_url, "--format", "openai"])
    assert as_chat.exit_code == 0, as_chat.output
    messages = json.loads(as_chat.output)
    assert {m["role"] for m in messages} >= {"user", "assistant", "tool"}

    deleted = runner.invoke(app, ["delete", ids[0], "--store", store_url, "--yes"])
    assert deleted.exit_code == 0, deleted.output
    assert _session_ids(store_url) == ids[1:]
    gone = runner.invoke(app, ["delete", ids[0], "--store", store_url, "--yes"])
    assert gone.exit_code == 1 and "not found" in gone.output


def test_demo_runs_on_the_in_memory_store() -> None:
    assert "2 segments" in _demo("memory://")


def test_a_missing_session_exits_1_with_a_message(store_url: str) -> None:
    put_sessions(store_url, {"alpha": "gpt-4o-mini"})
    result = runner.invoke(app, ["show", "no-such-session", "--store", store_url])
    assert result.exit_code == 1
    assert "no-such-session" in result.output and "not found" in result.output


def test_an_unknown_store_scheme_exits_1_naming_it() -> None:
    result = runner.invoke(app, ["list", "--store", "ftp://example/sessions"])
    assert result.exit_code == 1
    assert "ftp" in result.output and "sqlite" in result.output


def test_an_unknown_export_format_is_a_usage_error(store_url: str) -> None:
    result = runner.invoke(app, ["export", "x", "--store", store_url, "--format", "xml"])
    assert result.exit_code == 2
    assert "xml" in result.output


def test_an_invalid_session_id_exits_1_naming_it(store_url: str) -> None:
    put_sessions(store_url, {"alpha": "gpt-4o-mini"})
    result = runner.invoke(app, ["show", "../../etc", "--store", store_url])
    assert result.exit_code == 1
    assert "../../etc" in result.output


def test_the_default_store_is_sqlite_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LLM_SESSIONS_STORE", raising=False)
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "llm-sessions.db").exists()
