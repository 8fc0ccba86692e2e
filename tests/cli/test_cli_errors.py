"""Every failure is one ``error:`` line with exit code 1 (usage errors: 2), and a command that
only reads never creates a database or a folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import invoke, put_sessions


def _one_error_line(output: str) -> str:
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, output
    return lines[0]


def test_export_to_a_missing_folder_is_one_error_line(store_url: str, tmp_path: Path) -> None:
    put_sessions(store_url, {"alpha": "gpt-4o-mini"})
    target = tmp_path / "missing" / "x.jsonl"
    result = invoke("export", "alpha", "--store", store_url, "--output", str(target))
    assert result.exit_code == 1
    assert "does not exist" in _one_error_line(result.output)
    assert not target.parent.exists()


def test_export_to_a_folder_is_one_error_line(store_url: str, tmp_path: Path) -> None:
    put_sessions(store_url, {"alpha": "gpt-4o-mini"})
    result = invoke("export", "alpha", "--store", store_url, "--output", str(tmp_path))
    assert result.exit_code == 1
    assert "is a folder" in _one_error_line(result.output)


@pytest.mark.parametrize(
    "command", [["list"], ["show", "x"], ["export", "x"], ["delete", "x", "--yes"]]
)
@pytest.mark.parametrize("columns", [80, 200])
def test_reading_a_missing_sqlite_database_does_not_create_it(
    command: list[str], columns: int, tmp_path: Path
) -> None:
    database = tmp_path / "typo.db"
    result = invoke(*command, "--store", f"sqlite:///{database}", columns=columns)
    assert result.exit_code == 1
    assert f"no database at {database}" in _one_error_line(result.output)
    assert list(tmp_path.iterdir()) == []


def test_reading_a_missing_store_folder_does_not_create_it(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    result = invoke("show", "x", "--store", f"file://{folder}")
    assert result.exit_code == 1
    assert "no store folder" in _one_error_line(result.output)
    assert not folder.exists()


def test_the_default_store_is_not_created_by_a_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LLM_SESSIONS_STORE", raising=False)
    result = invoke("show", "x")
    assert result.exit_code == 1
    assert "llm-sessions.db" in _one_error_line(result.output)
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_server_is_one_error_line() -> None:
    result = invoke("list", "--store", "redis://127.0.0.1:1/0")
    assert result.exit_code == 1
    _one_error_line(result.output)


@pytest.mark.parametrize(
    "args",
    [
        ["list", "--no-such-option"],
        ["show"],
        ["export", "x", "--format", "xml"],
        ["list", "--limit", "0"],
        ["no-such-command"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_the_installed_command_prints_no_traceback(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "x"
    env = {**os.environ, "LLM_SESSIONS_STORE": f"sqlite:///{tmp_path / 'cli.db'}"}
    put_sessions(env["LLM_SESSIONS_STORE"], {"alpha": "gpt-4o-mini"})
    command = [sys.executable, "-m", "llm_sessions", "export", "alpha", "--output", str(target)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr


def test_version_and_short_help() -> None:
    version = invoke("--version")
    assert version.exit_code == 0 and version.output.startswith("llm-sessions ")
    assert version.output.split()[1][0].isdigit()
    helped = invoke("-h")
    assert helped.exit_code == 0
    assert all(name in helped.output for name in ("demo", "list", "show", "export", "delete"))
    assert "--verbose" in helped.output


def test_verbose_prints_the_librarys_log_messages(store_url: str) -> None:
    put_sessions(store_url, {"alpha": "gpt-4o-mini"})
    quiet = invoke("list", "--store", store_url, "--json")
    loud = invoke("--verbose", "list", "--store", store_url, "--json")
    assert "debug: opened" not in quiet.output
    assert f"debug: opened {store_url}" in loud.output
    assert json.loads(quiet.stdout)[0]["id"] == "alpha"
