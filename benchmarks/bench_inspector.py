"""The inspector in a real browser: time to interactive for 100 vs 10,000 events, and the
sessions page over many sessions.

Starts ``llm-sessions serve`` over a fresh SQLite file holding two sessions (100 and 10,000
events: user messages, replies that call a tool, tool calls, every 50th a failing one), then
opens each session's page ``--repeat`` times in a new tab of the system Chromium (driven by
Playwright, no browser download) and reports the medians of:

- ready: from the start of navigation to the newest events being on the page with their
  handlers attached (``performance.now()`` when the script has rendered them);
- expand: clicking the newest event until its JSON is visible;
- runs+cost shown: from the start of navigation to the runs, tokens and cost panels being
  filled (one read of the whole session on the server, made after the events are shown);
- load 100 older: then scrolling to the top until the previous 100 events are on the page.

It then times the sessions page (``GET /``, the server's answer, a page of 50) over
``--sessions`` small sessions (default 1,000 of 20 events) and the two above: the first page
(the sessions on a page are loaded whole, so it includes the 10,000-event one), the second, and
a model filter that matches nothing (it loads every session, newest first).

Run from the repository root (not part of the test run)::

    .venv/bin/python benchmarks/bench_inspector.py [--repeat 7] [--sessions 1000]
                                                   [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from _common import machine, table
from bench_server import serving

from llm_sessions.models.event_source import EventSource
from llm_sessions.models.event_type import EventType
from llm_sessions.models.session import Session
from llm_sessions.models.session_event import SessionEvent
from llm_sessions.storage import open_store

SIZES = (100, 10_000)
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
TIMEOUT_MS = 60_000


def _events(count: int) -> list[SessionEvent[Any]]:
    """``count`` events in turns of user message, reply with a tool call, tool call, answer."""
    events: list[SessionEvent[Any]] = []
    while len(events) < count:
        turn = len(events) // 4
        events.append(SessionEvent(message=f"question {turn}", source=EventSource.USER))
        call = {"id": f"call_{turn}", "type": "function", "function": {"name": "lookup"}}
        reply = SessionEvent(message={"content": None, "tool_calls": [call]})
        events.append(reply)
        failed = turn % 50 == 0
        events.append(
            SessionEvent(
                message={
                    "tool": "lookup",
                    "arguments": {"turn": turn},
                    "result": None if failed else {"found": turn},
                    "error": "LookupError: not found" if failed else None,
                    "success": not failed,
                },
                type=EventType.TOOL_CALL,
                source=EventSource.SYSTEM,
                parent_event_id=reply.id,
            )
        )
        events.append(SessionEvent(message=f"answer {turn}"))
    return events[:count]


async def _seed(store_url: str, sessions: int) -> None:
    async with open_store(store_url) as store:
        for number in range(sessions):
            await store.save(Session(id=f"small-{number:05d}", events=_events(20)))
        for size in SIZES:
            await store.save(Session(id=f"bench-{size}", events=_events(size)))


def _list_ms(base_url: str, query: str, repeat: int) -> float:
    samples = []
    with httpx.Client(base_url=base_url, timeout=120) as http:
        for _ in range(repeat):
            started = time.perf_counter()
            http.get(f"/?{query}").raise_for_status()
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _measure(browser: Any, base_url: str, session_id: str) -> tuple[float, ...]:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{base_url}/sessions/{session_id}", wait_until="commit")
    main = page.locator("#session[data-ready=true]")
    main.wait_for()
    ready = float(main.get_attribute("data-ready-ms") or "nan")
    started = time.perf_counter()
    page.locator("#tree > li.node > .row").last.click()
    page.locator("#tree > li.node").last.locator("pre.json").wait_for()
    expand = (time.perf_counter() - started) * 1000
    overview = page.locator("#session[data-overview-ms]")
    overview.wait_for()
    panels = float(overview.get_attribute("data-overview-ms") or "nan")
    rows = page.locator("#tree li.node")
    shown = rows.count()
    started = time.perf_counter()
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_function(
        "shown => document.querySelectorAll('#tree li.node').length > shown"
        " || document.getElementById('older').hidden",
        arg=shown,
    )
    older = (time.perf_counter() - started) * 1000
    page.close()
    return ready, expand, panels, older


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        store_url = f"sqlite:///{Path(folder) / 'inspector.db'}"
        asyncio.run(_seed(store_url, args.sessions))
        with serving(store_url, 1) as base_url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            _measure(browser, base_url, f"bench-{SIZES[0]}")  # warm up server and browser
            rows = []
            for size in SIZES:
                samples = [_measure(browser, base_url, f"bench-{size}") for _ in range(args.repeat)]
                medians = [statistics.median(column) for column in zip(*samples, strict=True)]
                rows.append([f"{size:,}", *medians])
            browser.close()
            listing = [
                [label, _list_ms(base_url, query, args.repeat)]
                for label, query in (
                    ("page 1 (holds the 10,000-event session)", ""),
                    ("page 2 (20-event sessions only)", "page=2"),
                    ("model filter, no match (loads all)", "model=gpt-4o-mini"),
                )
            ]
    print(machine())
    print(
        table(
            f"Inspector session page, median of {args.repeat} loads (ms)",
            ["events", "ready", "expand an event", "runs+cost shown", "load 100 older"],
            rows,
        )
    )
    print(
        table(
            f"Sessions page over {args.sessions + len(SIZES):,} sessions, median of "
            f"{args.repeat} (ms)",
            ["a page of 50", "ms"],
            listing,
        )
    )


if __name__ == "__main__":
    main()
