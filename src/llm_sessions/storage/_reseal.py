"""Key rotation of a session's header records without undoing anyone's change.

Rotation re-encrypts each state value, property and run that is not sealed with the current key.
It must never write back a value another writer replaced after rotation read it, so each
rewrite is a ``SealedSwap``: the store replaces the record only if it still holds the value read
(compare and swap, in one atomic operation per session). A swap that loses to a concurrent
writer is simply not applied: that writer's value stands, and the next pass re-encrypts it if it
was sealed with an older key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ._encryption import RecordCipher
    from ._records import StoredHeader

__all__ = ["SealedSwap", "header_swaps", "swap_into"]

Place = Literal["state", "properties", "runs"]


@dataclass(frozen=True)
class SealedSwap:
    """Replace the record ``key`` of ``place`` with ``new`` if it still holds ``expected``."""

    place: Place
    key: str
    expected: str
    """The record as read, as JSON text (the exact text for runs; for values, their compact
    JSON, which is how every store writes them)."""
    new: str
    """The record sealed with the current key, as JSON text."""


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def header_swaps(cipher: RecordCipher, header: StoredHeader) -> list[SealedSwap]:
    """The swaps that re-encrypt what ``header`` holds under another key than the current one
    (or in plain text)."""
    swaps: list[SealedSwap] = []
    values: tuple[tuple[Place, dict[str, Any]], ...] = (
        ("state", header.state),
        ("properties", header.properties),
    )
    for place, stored in values:
        for key, value in stored.items():
            if not cipher.sealed_with_current(value):
                opened = cipher.open_value(place, key, value)
                sealed = cipher.seal_value(place, key, _compact(opened))
                swaps.append(SealedSwap(place, key, _compact(value), sealed))
    for row in header.runs:
        text = row.decode() if isinstance(row, bytes) else row
        value = json.loads(text)
        if not cipher.sealed_with_current(value):
            run_id = value["id"]
            opened = cipher.open_run(text)
            body = opened.decode() if isinstance(opened, bytes) else opened
            swaps.append(SealedSwap("runs", run_id, text, cipher.seal_run(run_id, body)))
    return swaps


def swap_into(records: dict[str, Any], swap: SealedSwap) -> bool:
    """Apply ``swap`` to a place's records held as parsed JSON; True if it was applied."""
    if swap.key not in records or records[swap.key] != json.loads(swap.expected):
        return False
    records[swap.key] = json.loads(swap.new)
    return True
