"""``llm-sessions prune``: apply a retention policy to a store once (``--dry-run`` shows what
it would remove, and removes nothing)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from ..storage import Retention, RetentionReport, SessionStore
from .common import DEFAULT_STORE, StoreOption, console, plural, print_json, run_on_store

__all__ = ["prune"]

_DURATION_HELP = "a duration such as 90d, 12h, 30m"


def prune(
    store: StoreOption = DEFAULT_STORE,
    max_age: Annotated[
        str | None, typer.Option(help=f"Erase sessions created longer ago ({_DURATION_HELP}).")
    ] = None,
    max_idle: Annotated[
        str | None, typer.Option(help=f"Erase sessions idle for longer ({_DURATION_HELP}).")
    ] = None,
    keep_last_events: Annotated[
        int | None, typer.Option(help="Shorten longer sessions to their newest events.")
    ] = None,
    trim_tool_results_after: Annotated[
        str | None, typer.Option(help=f"Remove tool events older than this ({_DURATION_HELP}).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what would be removed.")
    ] = False,
    now: Annotated[
        datetime | None,
        typer.Option(help="The time limits count back from (for backfills).", show_default="now"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Apply a retention policy once: erase sessions older or idle beyond the limits, and
    shorten long sessions in place.

    Erasures are audited (actor "retention", see ``audit``); a shortened session keeps a
    stub event that says what went. --dry-run only shows what would be removed."""
    policy = Retention(
        max_age=max_age,
        max_idle=max_idle,
        keep_last_events=keep_last_events,
        trim_tool_results_after=trim_tool_results_after,
    )

    async def work(opened: SessionStore) -> RetentionReport:
        report = await opened.apply_retention(policy, now=now, dry_run=dry_run)
        if report.erased is not None and not dry_run:
            await opened.compact()
        return report

    report: RetentionReport = run_on_store(store, work)
    if as_json:
        print_json(report.model_dump(mode="json"))
        return
    for line in report_lines(report):
        console.print(line)


def report_lines(report: RetentionReport) -> list[str]:
    """What ``prune`` prints for ``report``."""
    verb = ("would erase", "would trim") if report.dry_run else ("erased", "trimmed")
    erased = report.erased_session_ids
    events = 0 if report.erased is None else report.erased.counts.get("events", 0)
    lines = [f"{verb[0]} {plural(len(erased), 'session')} ({plural(events, 'event')})"]
    lines += [f"  {session_id}" for session_id in erased]
    removed = sum(len(done.event_ids) for done in report.trimmed)
    lines.append(
        f"{verb[1]} {plural(removed, 'event')} from {plural(len(report.trimmed), 'session')}"
    )
    lines += [
        f"  {done.session_id}: {plural(len(done.event_ids), 'event')} ({done.tokens} tokens)"
        for done in report.trimmed
    ]
    return lines
