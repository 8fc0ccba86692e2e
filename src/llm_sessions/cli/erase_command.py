"""``llm-sessions erase``: a user's sessions and everything derived from them, for good; and
``llm-sessions audit``: the record of the erasures done on a store."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.table import Table

from ..storage import AuditRecord, ErasureReceipt, SessionStore
from .common import DEFAULT_STORE, CliError, StoreOption, console, plural, print_json, run_on_store

__all__ = ["audit", "erase"]

UserOption = Annotated[str, typer.Option("--user", help="The user whose sessions to erase.")]


def erase(
    user: UserOption,
    store: StoreOption = DEFAULT_STORE,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before erasing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the receipt as JSON.")] = False,
    actor: Annotated[
        str | None,
        typer.Option(help="Who asks, for the audit log.", show_default="the system user"),
    ] = None,
) -> None:
    """Erase every session of a user and everything derived from them, for good.

    Children, later segments, forks and the blobs no other session names go too; the store
    is then compacted so no bytes of them are left. The store keeps an audit record (who,
    when, the filter, counts; never content): see ``audit``."""
    where = {"user_id": user}
    if not yes:
        preview = run_on_store(store, lambda opened: opened.erase(where, dry_run=True))
        _confirm(user, preview)

    async def work(opened: SessionStore) -> ErasureReceipt:
        receipt = await opened.erase(where, actor=actor or getpass.getuser())
        await opened.compact()
        return receipt

    receipt = run_on_store(store, work)
    if as_json:
        print_json(receipt.model_dump(mode="json"))
        return
    counts = ", ".join(plural(count, kind.rstrip("s")) for kind, count in receipt.counts.items())
    console.print(f"erased {counts} of user {user!r} (erasure {receipt.erasure_id})")


def audit(
    store: StoreOption = DEFAULT_STORE,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """The erasures done on the store, oldest first: who, when, the filter and the counts."""
    records: list[AuditRecord] = run_on_store(store, lambda opened: opened.audit_log())
    if as_json:
        print_json([record.model_dump(mode="json") for record in records])
        return
    if not records:
        console.print("no erasures recorded")
        return
    table = Table("finished", "actor", "filter", "sessions", "events", "blobs")
    for record in records:
        counts = record.counts
        table.add_row(
            record.finished_at.isoformat(timespec="seconds"),
            record.actor or "",
            _filter_text(record.filter),
            *(str(counts.get(kind, 0)) for kind in ("sessions", "events", "blobs")),
        )
    console.print(table)


def _filter_text(chosen: dict[str, object]) -> str:
    return ", ".join(f"{key}={value}" for key, value in chosen.items() if value is not False)


def _confirm(user: str, preview: ErasureReceipt) -> None:
    if not preview.session_ids:
        raise CliError(f"user {user!r} has no sessions in this store: nothing to erase")
    sessions = plural(len(preview.session_ids), "session")
    events = plural(preview.counts.get("events", 0), "event")
    question = f"Erase {sessions} ({events}) of user {user!r} for good?"
    try:
        confirmed = typer.confirm(question, default=False)
    except typer.Abort:
        raise CliError(f"{question} Not answered; pass --yes to erase without asking") from None
    if not confirmed:
        raise CliError("nothing erased")
