"""``llm-sessions delete``: a session, or every segment of its conversation."""

from __future__ import annotations

from typing import Annotated

import typer

from ..storage import SessionStore
from .chains import conversation_of, position_text
from .common import (
    DEFAULT_STORE,
    CliError,
    SessionIdArgument,
    StoreOption,
    console,
    load_session,
    run_on_store,
)

__all__ = ["delete"]


def delete(
    session_id: SessionIdArgument,
    store: StoreOption = DEFAULT_STORE,
    chain: Annotated[
        bool, typer.Option("--chain", help="Delete every segment of its conversation.")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask before deleting segments.")
    ] = False,
) -> None:
    """Delete a session and its events.

    Deleting a segment of an infinite conversation asks first (``--yes`` skips the question);
    ``--chain`` deletes the whole conversation.
    """

    async def find(opened: SessionStore) -> tuple[str, list[str]]:
        session = await load_session(opened, session_id)
        return session.id, [segment.id for segment in await conversation_of(opened, session)]

    found, chain_ids = run_on_store(store, find)
    targets = chain_ids if chain else [found]
    if len(chain_ids) > 1 and not yes:
        _confirm(found, chain_ids, chain)

    async def remove(opened: SessionStore) -> list[str]:
        return [target for target in targets if await opened.delete(target)]

    for deleted in run_on_store(store, remove):
        console.print(f"deleted {deleted}")


def _confirm(session_id: str, chain_ids: list[str], whole_chain: bool) -> None:
    if whole_chain:
        question = f"Delete all {len(chain_ids)} segments of this conversation?"
    else:
        position = position_text(session_id, chain_ids)
        question = (
            f"{session_id} is {position} of a conversation. Delete only this segment "
            f"(--chain deletes all {len(chain_ids)})?"
        )
    try:
        confirmed = typer.confirm(question, default=False)
    except typer.Abort:
        raise CliError(f"{question} Not answered; pass --yes to delete without asking") from None
    if not confirmed:
        raise CliError("nothing deleted")
