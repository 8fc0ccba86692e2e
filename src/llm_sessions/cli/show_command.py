"""``llm-sessions show``: a session's event tree and its tokens and cost by model."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ..models import Session
from ..storage import SessionStore
from .chains import conversation_of, position_text
from .common import (
    DEFAULT_STORE,
    JsonOption,
    SessionIdArgument,
    StoreOption,
    console,
    load_session,
    print_json,
    run_on_store,
)
from .render import event_tree, session_json, usage_table

__all__ = ["show"]


def show(
    session_id: SessionIdArgument,
    store: StoreOption = DEFAULT_STORE,
    all_segments: Annotated[
        bool,
        typer.Option("--all-segments", help="Show every segment of an infinite conversation."),
    ] = False,
    last: Annotated[
        int | None,
        typer.Option(
            min=1, help="Show only the last N events of each session.", show_default="every event"
        ),
    ] = None,
    as_json: JsonOption = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Under each tool call, show every failed attempt: its exception type, message "
            "and traceback. (Given before the command, --verbose prints the library's log "
            "messages instead.)",
        ),
    ] = False,
) -> None:
    """Show a session's event tree and its tokens and cost by model.

    For a segment of an infinite conversation it says which segment of how many it is;
    ``--all-segments`` shows the whole conversation. A failed tool call shows its error on one
    line; ``--verbose`` adds each failed attempt's traceback.
    """

    async def work(opened: SessionStore) -> tuple[Session[Any], list[Session[Any]]]:
        session = await load_session(opened, session_id)
        return session, await conversation_of(opened, session)

    session, chain = run_on_store(store, work)
    shown = chain if all_segments else [session]
    if as_json:
        print_json([session_json(s, _ids(chain), _last(s, last), failures=verbose) for s in shown])
        return
    for segment in shown:
        title = _title(segment, chain, last)
        console.print(event_tree(_last(segment, last), title, failures=verbose))
    if len(chain) > 1 and not all_segments:
        console.print(
            f"[dim]{position_text(session.id, _ids(chain))} of a conversation; "
            "--all-segments shows them all[/]"
        )
    console.print(usage_table(shown))


def _last(session: Session[Any], last: int | None) -> list[Any]:
    return session.events[-last:] if last else list(session.events)


def _title(session: Session[Any], chain: list[Session[Any]], last: int | None) -> str:
    parts = [f"[bold]session[/] {session.id}"]
    position = position_text(session.id, _ids(chain))
    if position:
        parts.append(f"[bold]{position}[/]")
    if last and last < len(session.events):
        parts.append(f"[dim]last {last} of {len(session.events)} events[/]")
    return "  ".join(parts)


def _ids(chain: list[Session[Any]]) -> list[str]:
    return [segment.id for segment in chain]
