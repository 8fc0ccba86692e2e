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

It then fills the store with ``--sessions`` more (default 100,000; 10 events each, 100 users,
5 models, one minute apart) the way ``bench_fleet.py`` does (the store's own saves, their
writes sent 2,000 to a transaction; SQLite with ``synchronous=off``), and reports for the
sessions page (a page of 50 rows, read from the summaries) and the usage page, as medians:

- interactive: from the start of navigation to the page's script having run over the drawn
  page (``performance.now()``, set on the page's ``main`` as ``data-ready-ms``);
- server: the time of the server's answer alone (an HTTP client, no browser).

The pages: the first, the next one (its cursor from the first page; also reached by clicking
its link on the first page, in the same tab), one user's sessions,
sorted by cost (highest first), and the usage page (by day, model and user) over the last 7 days
of the sessions (its default window) and over 30 days.

``--keep FILE`` fills ``FILE`` and keeps it, or reuses it when it exists (filling 100,000
sessions takes minutes); ``--listing-only`` skips the session pages.

Run from the repository root (not part of the test run)::

    .venv/bin/python benchmarks/bench_inspector.py [--repeat 7] [--sessions 100000]
                                                   [--chromium /usr/bin/chromium]
                                                   [--keep FILE] [--listing-only]
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import re
import shutil
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from _common import machine, table
from bench_fleet import START, fill
from bench_server import serving

from llm_sessions.models.event_source import EventSource
from llm_sessions.models.event_type import EventType
from llm_sessions.models.session import Session
from llm_sessions.models.session_event import SessionEvent
from llm_sessions.storage import SQLiteSessionStore, open_store

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


async def _seed(path: Path, sessions: int) -> float:
    """The two sessions of ``SIZES``, then ``sessions`` fleet sessions; the fill's seconds."""
    async with open_store(f"sqlite:///{path}") as store:
        for size in SIZES:
            await store.save(Session(id=f"bench-{size}", events=_events(size)))
    fleet = SQLiteSessionStore(str(path), synchronous="off")
    try:
        started = time.perf_counter()
        await fill(fleet, sessions)
        return time.perf_counter() - started
    finally:
        await fleet.close()


def _pages(sessions: int) -> list[tuple[str, str]]:
    """(label, path) of the pages timed; the next page's cursor is found when it is timed."""
    last = (START + timedelta(minutes=sessions - 1)).date()
    week = f"since={last - timedelta(days=6)}&until={last}"
    month = f"since={last - timedelta(days=29)}&until={last}"
    return [
        ("sessions: first page", "/"),
        ("sessions: next page (cursor)", "next"),
        ("sessions: one user", "/?user=user-7"),
        ("sessions: by cost, highest first", "/?order=-cost"),
        ("usage: 7 days (the default)", f"/usage?{week}"),
        ("usage: 30 days", f"/usage?{month}"),
    ]


def _next_page(base_url: str) -> str:
    with httpx.Client(base_url=base_url, timeout=120) as http:
        first = http.get("/").text
    found = re.search(r'<a href="(/\?[^"]*)" rel="next">', first)
    assert found is not None, "the first page has no next page"
    return html.unescape(found.group(1))


def _server_ms(base_url: str, path: str, repeat: int) -> float:
    samples = []
    with httpx.Client(base_url=base_url, timeout=120) as http:
        for _ in range(repeat):
            started = time.perf_counter()
            http.get(path).raise_for_status()
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _interactive_ms(browser: Any, url: str, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url, wait_until="commit")
        main = page.locator("main[data-ready=true]")
        main.wait_for()
        samples.append(float(main.get_attribute("data-ready-ms") or "nan"))
        page.close()
    return statistics.median(samples)


def _clicked_next_ms(browser: Any, base_url: str, repeat: int) -> float:
    """The next page reached by its link from the first, in the same tab (the browser keeps
    the page's stylesheet and script from the first page)."""
    samples = []
    for _ in range(repeat):
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(base_url + "/", wait_until="commit")
        page.locator("main[data-ready=true]").wait_for()
        with page.expect_navigation(wait_until="commit"):
            page.click('a[rel="next"]')
        main = page.locator("main[data-ready=true]")
        main.wait_for()
        samples.append(float(main.get_attribute("data-ready-ms") or "nan"))
        page.close()
    return statistics.median(samples)


def _time_pages(browser: Any, base_url: str, sessions: int, repeat: int) -> list[list[Any]]:
    rows = []
    for label, path in _pages(sessions):
        if path == "next":
            path = _next_page(base_url)
            clicked = _clicked_next_ms(browser, base_url, repeat)
            server = _server_ms(base_url, path, repeat)
            rows.append(["sessions: next page, its link clicked", clicked, server])
        interactive = _interactive_ms(browser, base_url + path, repeat)
        rows.append([label, interactive, _server_ms(base_url, path, repeat)])
    return rows


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


def _session_rows(browser: Any, base_url: str, repeat: int) -> list[list[Any]]:
    _measure(browser, base_url, f"bench-{SIZES[0]}")  # warm up server and browser
    rows = []
    for size in SIZES:
        samples = [_measure(browser, base_url, f"bench-{size}") for _ in range(repeat)]
        medians = [statistics.median(column) for column in zip(*samples, strict=True)]
        rows.append([f"{size:,}", *medians])
    return rows


def _run(path: Path, args: argparse.Namespace) -> tuple[list[list[Any]], list[list[Any]]]:
    from playwright.sync_api import sync_playwright

    with serving(f"sqlite:///{path}", 1) as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        rows = [] if args.listing_only else _session_rows(browser, base_url, args.repeat)
        _interactive_ms(browser, base_url + "/", 1)  # warm up the listing's queries
        listing = _time_pages(browser, base_url, args.sessions, args.repeat)
        browser.close()
    return rows, listing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--keep", type=Path, help="fill this file and keep it, or reuse it")
    parser.add_argument("--listing-only", action="store_true", help="skip the session pages")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.keep or Path(folder) / "inspector.db"
        filled: float | None = None
        if not path.exists():
            filled = asyncio.run(_seed(path, args.sessions))
        rows, listing = _run(path, args)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"{machine()}; load average {load} (1, 5, 15 min) at the end")
    if rows:
        print(
            table(
                f"Inspector session page, median of {args.repeat} loads (ms)",
                ["events", "ready", "expand an event", "runs+cost shown", "load 100 older"],
                rows,
            )
        )
    how = "a kept file" if filled is None else f"filled in {filled:.0f} s"
    print(
        table(
            f"Sessions and usage pages over {args.sessions + len(SIZES):,} sessions ({how}),"
            f" median of {args.repeat} (ms)",
            ["page", "interactive", "server"],
            listing,
        )
    )


if __name__ == "__main__":
    main()
