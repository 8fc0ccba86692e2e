"""``llm-sessions serve``: it reaches the store before it binds, says where it listens and what it
serves, and logs each request (unless told not to)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_helpers import KEYS, server_process
from typer.testing import CliRunner

from llm_sessions.cli.main import app as cli
from llm_sessions.cli.serve_command import shown_store_url, startup_lines
from llm_sessions.server import ApiKeys

_KEYS_VALUE = ",".join(f"{key}={tenant}" for key, tenant in KEYS.items())


@pytest.fixture
def uvicorn_runs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The keyword arguments of each ``uvicorn.run`` call, which binds nothing here."""
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    return calls


def _error_line(output: str) -> str:
    [line] = [line for line in output.splitlines() if line.startswith("error:")]
    return line


def test_a_malformed_store_url_stops_serve_with_the_message_list_gives(
    uvicorn_runs: list[dict[str, Any]],
) -> None:
    url = "redis://127.0.0.1:6379/abc"
    listed = CliRunner().invoke(cli, ["list", "--store", url])
    served = CliRunner().invoke(cli, ["serve", "--store", url])
    assert (served.exit_code, listed.exit_code) == (1, 1)
    assert _error_line(served.output) == _error_line(listed.output)
    assert "url database='/abc'" in _error_line(served.output)
    assert uvicorn_runs == []


def test_a_store_that_does_not_answer_stops_serve_before_it_binds(
    uvicorn_runs: list[dict[str, Any]],
) -> None:
    pytest.importorskip("redis")
    url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    listed = CliRunner().invoke(cli, ["list", "--store", url])
    served = CliRunner().invoke(cli, ["serve", "--store", url])
    assert (served.exit_code, listed.exit_code) == (1, 1)
    # serve probes with a listing of ids, list reads the summary index: the same store, the
    # same failure, each naming what it was doing.
    for output in (served.output, listed.output):
        line = _error_line(output)
        assert line.startswith(f"error: StorageError: Redis at {url}")
        assert "ConnectionError: Error 111 connecting to 127.0.0.1:1." in line
    assert uvicorn_runs == []


def test_serve_says_where_it_listens_the_store_workers_and_keys(
    uvicorn_runs: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_SESSIONS_API_KEYS", _KEYS_VALUE)
    store = f"sqlite:///{tmp_path / 'served.db'}"
    arguments = ["serve", "--store", store, "--port", "8123", "--workers", "2"]
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "llm-sessions serve",
        "  listening on  http://127.0.0.1:8123",
        "  inspector     http://127.0.0.1:8123/",
        "  API docs      http://127.0.0.1:8123/docs",
        f"  store         {store}",
        "  workers       2",
        "  API keys      2 API keys, 2 tenants",
        "  access log    on (--no-access-log turns it off)",
        "  retention     none (--retention sets a policy)",
    ]
    [run] = uvicorn_runs
    assert (run["port"], run["workers"], run["access_log"]) == (8123, 2, True)
    assert run["log_config"]["loggers"]["uvicorn.access"]["level"] == "INFO"


def test_no_access_log_turns_it_off(uvicorn_runs: list[dict[str, Any]]) -> None:
    result = CliRunner().invoke(cli, ["serve", "--store", "memory://", "--no-access-log"])
    assert result.exit_code == 0, result.output
    assert "  access log    off" in result.output.splitlines()
    assert "none: one tenant, the whole store, on loopback only" in result.output
    [run] = uvicorn_runs
    assert run["access_log"] is False


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("sqlite:////srv/llm/sessions.db", "sqlite:////srv/llm/sessions.db"),
        ("redis://:s3cret@cache:6379/2", "redis://:***@cache:6379/2"),
        ("rediss://app:s3cret@cache/0?key_prefix=a:", "rediss://app:***@cache/0?key_prefix=a:"),
        (
            "postgresql://app:s3cret@db/llm?schema=one&password=s3cret",
            "postgresql://app:***@db/llm?schema=one&password=***",
        ),
    ],
)
def test_the_store_is_shown_without_its_password(url: str, shown: str) -> None:
    assert shown_store_url(url) == shown
    assert f"  store         {shown}" in startup_lines("::1", 80, url, 1, ApiKeys(), True)


def test_an_ipv6_host_is_bracketed_in_the_url() -> None:
    lines = startup_lines("::1", 8000, "memory://", 1, ApiKeys(), False)
    assert "  listening on  http://[::1]:8000" in lines


def test_a_real_server_logs_each_request_in_uvicorns_format(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'logged.db'}"
    with tempfile.TemporaryFile() as log:
        with server_process(store, log=log) as base_url:
            assert httpx.get(f"{base_url}/v1/sessions/absent").status_code == 404
        log.seek(0)
        output = log.read().decode()
    port = base_url.rsplit(":", 1)[1]
    assert f"  listening on  http://127.0.0.1:{port}" in output.splitlines()
    access = r'INFO: +127\.0\.0\.1:\d+ - "GET /v1/sessions/absent HTTP/1\.1" 404 Not Found'
    assert re.search(access, output), output


def test_a_real_server_with_no_access_log_logs_no_request(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'quiet.db'}"
    with tempfile.TemporaryFile() as log:
        with server_process(store, args=["--no-access-log"], log=log) as base_url:
            assert httpx.get(f"{base_url}/v1/sessions/absent").status_code == 404
        log.seek(0)
        output = log.read().decode()
    assert "  access log    off" in output.splitlines()
    assert "GET /" not in output, output
