"""What ``show`` draws beyond messages: failed tool attempts (their tracebacks only with
``show --verbose``) and events of custom types."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from cli_helpers import invoke

from chat_messages import assistant, call
from llm_sessions.models.event_source import EventSource
from llm_sessions.models.session import Session
from llm_sessions.models.session_event import SessionEvent
from llm_sessions.session_aware_tool_processor import SessionAwareToolProcessor
from llm_sessions.storage import open_store
from llm_sessions.tools import ToolRegistry

SESSION_ID = "tool-failures"


class GaugeOffline(ConnectionError):
    """A transient failure of the tool (retried by default)."""


def _read_gauge(attempt: int) -> None:
    raise GaugeOffline(f"gauge offline on attempt {attempt}")


def _put_tool_failures(store_url: str) -> None:
    """A session whose ``rainfall`` tool fails twice and then succeeds, and whose ``divide``
    fails once for good."""

    async def main() -> None:
        store = open_store(store_url)
        attempts = 0
        registry = ToolRegistry()

        def rainfall(city: str) -> str:
            nonlocal attempts
            attempts += 1
            if attempts <= 2:
                _read_gauge(attempts)
            return f"3 mm in {city}"

        def divide(a: float, b: float) -> float:
            return a / b

        registry.register(rainfall, name="rainfall")
        registry.register(divide, name="divide")
        try:
            session: Session[Any] = await Session.create(store=store, id=SESSION_ID)
            await session.add_event_and_save(
                SessionEvent(message="Rain in Oslo, and 1/0?", source=EventSource.USER)
            )
            processor = SessionAwareToolProcessor(
                SESSION_ID, registry=registry, store=store, retry_delay=0, max_retries=2
            )
            reply = assistant(
                call("rainfall", {"city": "Oslo"}, "call_rain"),
                call("divide", {"a": 1, "b": 0}, "call_div"),
            )
            await processor.process_llm_message(reply, None)
        finally:
            await store.close()

    asyncio.run(main())


def test_show_verbose_prints_each_failed_attempts_traceback(store_url: str) -> None:
    _put_tool_failures(store_url)
    plain = invoke("show", SESSION_ID, "--store", store_url, columns=200)
    verbose = invoke("show", SESSION_ID, "--store", store_url, "--verbose", columns=200)
    assert plain.exit_code == 0, plain.output
    assert verbose.exit_code == 0, verbose.output

    for output in (plain.output, verbose.output):
        assert "3 attempts" in output  # rainfall: two failures, then a success
        assert "ZeroDivisionError: float division by zero" in output  # divide's one-line error

    assert "Traceback (most recent call last)" not in plain.output
    assert "GaugeOffline" not in plain.output
    assert "_read_gauge" not in plain.output

    assert verbose.output.count("Traceback (most recent call last)") == 3
    for attempt in (1, 2):
        assert f"attempt {attempt}  GaugeOffline: gauge offline on attempt {attempt}" in (
            verbose.output
        )
    assert "in _read_gauge" in verbose.output
    assert 'raise GaugeOffline(f"gauge offline on attempt {attempt}")' in verbose.output
    assert "in divide" in verbose.output and "return a / b" in verbose.output
    # The tracebacks hang under their own tool call: rainfall's come before divide's node.
    assert verbose.output.index("gauge offline on attempt 2") < verbose.output.index("✗ error")


def test_show_short_v_is_the_per_command_verbose(store_url: str) -> None:
    _put_tool_failures(store_url)
    assert "in _read_gauge" in invoke("show", SESSION_ID, "--store", store_url, "-v").output
    # Before the command, --verbose prints the library's logs and leaves tracebacks out.
    logs_only = invoke("--verbose", "show", SESSION_ID, "--store", store_url)
    assert logs_only.exit_code == 0, logs_only.output
    assert "Traceback (most recent call last)" not in logs_only.output


@pytest.mark.parametrize("verbose", [False, True])
def test_show_json_lists_failures_only_with_verbose(store_url: str, verbose: bool) -> None:
    _put_tool_failures(store_url)
    args = ["show", SESSION_ID, "--store", store_url, "--json"]
    [shown] = json.loads(invoke(*args, *(["--verbose"] if verbose else [])).stdout)
    calls = {node["tool"]: node for root in shown["events"] for node in [root, *root["children"]]}
    if not verbose:
        assert "failures" not in calls["rainfall"]
        return
    rainfall = calls["rainfall"]["failures"]
    assert [(f["attempt"], f["exception_type"]) for f in rainfall] == [
        (1, "GaugeOffline"),
        (2, "GaugeOffline"),
    ]
    assert rainfall[1]["message"] == "gauge offline on attempt 2"
    assert rainfall[1]["traceback"].startswith("Traceback (most recent call last)")
    [division] = calls["divide"]["failures"]
    assert division["exception_type"] == "ZeroDivisionError"


def test_show_draws_events_of_custom_types(store_url: str) -> None:
    async def main() -> None:
        store = open_store(store_url)
        try:
            session: Session[Any] = await Session.create(store=store, id="custom")
            await session.add_event_and_save(
                SessionEvent(message="Which docs?", source=EventSource.USER)
            )
            await session.add_event_and_save(
                SessionEvent(
                    message={"hits": ["doc-1", "doc-2"]},
                    type="retrieval",
                    source=EventSource.SYSTEM,
                )
            )
        finally:
            await store.close()

    asyncio.run(main())
    shown = invoke("show", "custom", "--store", store_url, columns=200)
    assert shown.exit_code == 0, shown.output
    retrieval_line = next(line for line in shown.output.splitlines() if "retrieval" in line)
    assert "doc-1" in retrieval_line
    [data] = json.loads(invoke("show", "custom", "--store", store_url, "--json").stdout)
    assert [node["kind"] for node in data["events"]] == ["user_message", "retrieval"]
    assert data["events"][1]["type"] == "retrieval"
