"""The filter options ``list`` and ``usage`` share: ``--where KEY=VALUE``, ``--since`` and
``--until``, passed as they are to ``find_sessions`` and ``usage`` (which check them)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ..storage._fleet_checks import scalar_from_text

__all__ = ["SinceOption", "UntilOption", "WhereOption", "where_conditions"]

WhereOption = Annotated[
    list[str] | None,
    typer.Option(
        "--where",
        metavar="KEY=VALUE",
        help="Keep sessions whose user_id or top-level property KEY equals VALUE (repeat to "
        "combine). VALUE is read as JSON when it is a number, true, false, null or a quoted "
        "string, else as text; user_id is always text.",
        show_default="every session",
    ),
]
SinceOption = Annotated[
    str | None,
    typer.Option(
        help="Keep sessions updated at or after this date or time (ISO 8601, UTC if no zone).",
        show_default="no bound",
    ),
]
UntilOption = Annotated[
    str | None,
    typer.Option(help="Keep sessions updated before this date or time.", show_default="no bound"),
]


def where_conditions(pairs: list[str] | None) -> dict[str, Any]:
    """``--where`` options as the ``where`` dict of ``find_sessions`` and ``usage``.

    Args:
        pairs: the ``KEY=VALUE`` texts, as given.

    Returns:
        Each key with its value.

    Raises:
        typer.BadParameter: a pair has no ``=`` or no key, or names a key twice.
    """
    conditions: dict[str, Any] = {}
    for pair in pairs or []:
        key, sign, text = pair.partition("=")
        if not sign or not key:
            raise typer.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--where")
        if key in conditions:
            raise typer.BadParameter(f"{key!r} is given twice", param_hint="--where")
        conditions[key] = text if key == "user_id" else scalar_from_text(text)
    return conditions
