"""``llm-sessions import`` and ``copy`` through typer's runner."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from llm_sessions.cli.main import app
from llm_sessions.storage.encryption import ENCRYPTION_KEY_ENV_VAR


def invoke(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=input)


@pytest.fixture
def demo_store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert invoke("demo", "--store", url).exit_code == 0
    return url


def _ids(url: str) -> list[str]:
    return sorted(row["id"] for row in json.loads(invoke("list", "--store", url, "--json").stdout))


def test_export_then_import_from_a_file_and_from_stdin(demo_store: str, tmp_path: Path) -> None:
    [first, second] = _ids(demo_store)
    exported = tmp_path / "conversation.jsonl"
    assert invoke("export", first, "--store", demo_store, "--output", str(exported)).exit_code == 0
    target = f"sqlite:///{tmp_path / 'target.db'}"

    result = invoke("import", str(exported), "--store", target)
    assert result.exit_code == 0, result.output
    assert "imported 2 sessions" in result.output
    assert _ids(target) == [first, second]
    again = invoke("export", second, "--store", target).stdout
    assert again == exported.read_text()

    refused = invoke("import", "-", "--store", target, input=exported.read_text())
    assert refused.exit_code == 1 and "is already in" in refused.output
    assert "--on-conflict rename" in refused.output and "--on-conflict replace" in refused.output
    renamed = invoke("import", "-", "--store", target, "--on-conflict", "rename", input=again)
    assert renamed.exit_code == 0, renamed.output
    assert len(_ids(target)) == 4


def test_import_of_a_bad_file_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"record": "event", "session_id": "x"}\n')
    target = f"sqlite:///{tmp_path / 'target.db'}"
    result = invoke("import", str(bad), "--store", target)
    assert result.exit_code == 1
    assert "line 1: an event before any session header" in result.output
    missing = invoke("import", str(tmp_path / "nope.jsonl"), "--store", target)
    assert missing.exit_code == 1 and "no such file" in missing.output


def test_an_openai_file_is_read_without_format_or_names_the_format(
    demo_store: str, tmp_path: Path
) -> None:
    [first, _] = _ids(demo_store)
    chat = tmp_path / "chat.json"
    chat.write_text(invoke("export", first, "--store", demo_store, "--format", "openai").stdout)
    target = f"sqlite:///{tmp_path / 'target.db'}"

    detected = invoke("import", str(chat), "--store", target)
    assert detected.exit_code == 0, detected.output
    assert "imported 1 session" in detected.output
    told = invoke("import", str(chat), "--store", target, "--format", "jsonl")
    assert told.exit_code == 1
    assert "read it with --format openai" in told.output and "truncated" not in told.output


def test_copy_reports_counts_and_resumes(demo_store: str, tmp_path: Path) -> None:
    target = f"file://{tmp_path / 'copied'}"
    first = invoke("copy", "--from", demo_store, "--to", target)
    assert first.exit_code == 0, first.output
    assert "copied 2, skipped 0, failed 0" in first.output
    assert _ids(target) == _ids(demo_store)
    second = invoke("copy", "--from", demo_store, "--to", target)
    assert "copied 0, skipped 2, failed 0" in second.output
    prefixed = invoke("copy", "--from", demo_store, "--to", "memory://", "--prefix", "zzz")
    assert "copied 0, skipped 0, failed 0" in prefixed.output


def test_keygen_prints_a_key_that_encrypts_a_store(tmp_path: Path) -> None:
    result = invoke("keygen")
    assert result.exit_code == 0
    key = result.stdout.strip()
    assert len(base64.urlsafe_b64decode(key)) == 32
    assert invoke("keygen").stdout.strip() != key
    url = f"sqlite:///{tmp_path / 'secret.db'}"
    env = {ENCRYPTION_KEY_ENV_VAR: key}
    assert CliRunner().invoke(app, ["demo", "--store", url], env=env).exit_code == 0
    listed = CliRunner().invoke(app, ["list", "--store", url], env=env)
    assert listed.exit_code == 0 and "2 sessions" in listed.output
    refused = CliRunner().invoke(app, ["list", "--store", url], env={ENCRYPTION_KEY_ENV_VAR: ""})
    assert refused.exit_code == 1 and "EncryptionKeyError" in refused.output
