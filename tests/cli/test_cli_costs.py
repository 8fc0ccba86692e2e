"""How ``show`` and ``demo`` describe counts and costs: "counted by" says ``estimate`` only for
estimated tokens, and a model without a known price is said once, in the cost table."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from cli_helpers import invoke

from llm_sessions.cli.render import counted_by
from llm_sessions.models.event_source import EventSource
from llm_sessions.models.session import Session
from llm_sessions.models.session_event import SessionEvent
from llm_sessions.storage import open_store

LOCAL = "local-llama-3-8b"


async def _session(counts: list[tuple[str, dict[str, int] | None]]) -> Session[str]:
    """A session with one event per ``(model, reported usage or None to count the text)``."""
    session: Session[str] = Session(id="counts")
    for model, usage in counts:
        event = await SessionEvent.create_with_tokens(
            message="what is the weather in Paris today?",
            prompt="what is the weather in Paris today?",
            model=model,
            source=EventSource.USER,
            usage=usage,
        )
        await session.add_event(event)
    return session


async def test_a_mix_of_tokenizer_and_reported_counts_is_exact() -> None:
    session = await _session([("gpt-4o-mini", None), ("gpt-4o-mini", {"input_tokens": 30})])
    assert counted_by([session]) == {"gpt-4o-mini": "tokenizer + reported"}


async def test_estimate_says_how_many_tokens_were_estimated() -> None:
    session = await _session([(LOCAL, None), (LOCAL, {"input_tokens": 30, "output_tokens": 8})])
    estimated = session.events[0].token_usage
    assert estimated is not None and estimated.is_estimate
    expected = f"estimate: {estimated.total_tokens} of {estimated.total_tokens + 38} tokens"
    assert counted_by([session]) == {LOCAL: expected}
    only_estimated = await _session([(LOCAL, None)])
    assert counted_by([only_estimated]) == {LOCAL: "estimate"}


def test_show_says_tokenizer_and_reported_not_estimate(store_url: str) -> None:
    async def put() -> None:
        store = open_store(store_url)
        try:
            session = await _session([("gpt-4o-mini", None), ("gpt-4o-mini", {"input_tokens": 9})])
            await store.save(session)
        finally:
            await store.close()

    asyncio.run(put())
    shown = invoke("show", "counts", "--store", store_url, columns=160)
    assert shown.exit_code == 0, shown.output
    [row] = [line for line in shown.output.splitlines() if "gpt-4o-mini" in line]
    assert "tokenizer + reported" in row and "estimate" not in row


def test_an_unpriced_model_is_said_once_in_the_table_not_as_a_note(tmp_path: Path) -> None:
    # In processes of their own: a model's missing price is looked up once per process.
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    commands = [
        ["demo", "--store", url],
        ["copy", "--from", url, "--to", f"file://{tmp_path / 'copied'}"],
    ]
    done = [
        subprocess.run(
            [sys.executable, "-m", "llm_sessions", *command],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "COLUMNS": "120"},
        )
        for command in commands
    ]
    assert all(run.returncode == 0 for run in done), [run.stderr for run in done]
    assert not any("No price is known" in run.stderr or "note:" in run.stderr for run in done)
    demo = done[0].stdout
    assert demo.count(f"no price is known for {LOCAL}") == 1
    assert f"unpriced: no price is known for {LOCAL}; its tokens are not in the cost" in demo
