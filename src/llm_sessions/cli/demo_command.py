"""``llm-sessions demo``: run the scripted conversation and show what was recorded."""

from __future__ import annotations

import shlex
from urllib.parse import quote

from .common import DEFAULT_STORE, JsonOption, StoreOption, console, print_json, run_on_store
from .demo import run_demo
from .render import event_tree, session_json, usage_table

__all__ = ["INSPECTOR_URL", "closing_hint", "demo", "inspector_hint"]

INSPECTOR_URL = "http://127.0.0.1:8000"
"""Where ``llm-sessions serve`` listens by default."""


def demo(store: StoreOption = DEFAULT_STORE, as_json: JsonOption = False) -> None:
    """Run a scripted, offline agent conversation and show what was recorded.

    The model's replies are scripted (no network, no API key); token counts come from the real
    tokenizer and prices from genai-prices. ``--json`` prints the segments as ``show --json``
    does.
    """
    if not as_json:
        console.print(
            "[bold]llm-sessions demo[/] — a scripted agent (offline: the model's replies are "
            "scripted; tokens and prices are real)"
        )
    result = run_on_store(store, run_demo, create=True)
    if as_json:
        ids = [segment.id for segment in result.segments]
        print_json([session_json(s, ids, s.events) for s in result.segments])
        return
    for index, segment in enumerate(result.segments, start=1):
        console.print(event_tree(segment, f"[bold]segment {index}[/] [dim]{segment.id}[/]"))
    console.print(usage_table(result.segments))
    stats = result.stats
    console.print(
        f"{stats['session_segments']} segments, {stats['total_events']} events, "
        f"{stats['user_messages']} user messages, {stats['ai_messages']} replies, "
        f"{stats['tool_calls']} tool calls; stored in {store}"
    )
    console.print(closing_hint(result.segments[-1].id, store), soft_wrap=True)
    if not store.lower().startswith("memory://"):
        console.print(inspector_hint(result.segments[-1].id, store), soft_wrap=True, markup=False)


def closing_hint(session_id: str, store: str) -> str:
    """How to see the conversation again: a command that works for ``store``."""
    if store.lower().startswith("memory://"):
        return (
            "memory:// kept it in this process only, so it is gone now; run the demo with "
            f"--store {DEFAULT_STORE} to keep it"
        )
    command = ["llm-sessions", "show", session_id, "--all-segments"]
    if store != DEFAULT_STORE:
        command += ["--store", store]
    return f"show it again with: {shlex.join(command)}"


def inspector_hint(session_id: str, store: str) -> str:
    """How to open the conversation in the web inspector: the serve command and the page."""
    command = ["llm-sessions", "serve"]
    if store != DEFAULT_STORE:
        command += ["--store", store]
    page = f"{INSPECTOR_URL}/sessions/{quote(session_id, safe='')}"
    return f"open it in the inspector: run {shlex.join(command)} and visit {page}"
