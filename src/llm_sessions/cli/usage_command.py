"""``llm-sessions usage``: sessions, events, tokens and cost totalled by user, model, day,
month or a property, from the stores' summaries (no session is loaded)."""

from __future__ import annotations

import csv
import sys
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from ..storage import SessionStore
from ..storage._fleet_query import UsageRow
from .common import DEFAULT_STORE, JsonOption, StoreOption, console, print_json, run_on_store
from .filters import SinceOption, UntilOption, WhereOption, where_conditions
from .render import cost_text

__all__ = ["usage"]

_TOTALS = ("sessions", "events", "tokens", "cost_usd")


def usage(
    store: StoreOption = DEFAULT_STORE,
    by: Annotated[
        list[str] | None,
        typer.Option(
            "--by",
            help="Group by user_id, model, day, month or a property name (repeat to nest).",
            show_default="user_id and day",
        ),
    ] = None,
    where: WhereOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    as_json: JsonOption = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
) -> None:
    """Total the stored sessions' events, tokens and cost by user, model, day or property."""
    if as_json and as_csv:
        raise typer.BadParameter("give --json or --csv, not both", param_hint="--csv")
    group_by = tuple(by) if by else ("user_id", "day")
    conditions = where_conditions(where)

    async def work(opened: SessionStore) -> list[UsageRow]:
        return await opened.usage(group_by=group_by, where=conditions, since=since, until=until)

    rows = run_on_store(store, work)
    if as_json:
        print_json([row.model_dump() for row in rows])
    elif as_csv:
        _write_csv(group_by, rows)
    else:
        console.print(_table(group_by, rows, store))


def _write_csv(group_by: tuple[str, ...], rows: list[UsageRow]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow([*group_by, *_TOTALS, "unpriced_models"])
    for row in rows:
        writer.writerow(
            [
                *(_cell(row.key[name]) for name in group_by),
                row.sessions,
                row.events,
                row.tokens,
                repr(row.cost_usd),
                " ".join(row.unpriced_models),
            ]
        )


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _table(group_by: tuple[str, ...], rows: list[UsageRow], store: str) -> Table:
    title = f"usage by {', '.join(group_by) or 'nothing (one total)'} in {store}"
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False)
    for name in group_by:
        table.add_column(name, no_wrap=True)
    for column in ("sessions", "events", "tokens", "cost (USD)"):
        table.add_column(column, justify="right", no_wrap=True)
    for row in rows:
        table.add_row(
            *(_cell(row.key[name]) or "-" for name in group_by),
            f"{row.sessions:,}",
            f"{row.events:,}",
            f"{row.tokens:,}",
            cost_text(row.cost_usd, row.unpriced_models),
        )
    return table
