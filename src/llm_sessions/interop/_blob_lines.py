"""The blobs section of a JSON Lines export: one ``{"record": "blob"}`` line per blob that the
exported events name, after the sessions, with the bytes in base64."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from ..exceptions import InvalidFileError, InvalidInputError, StorageError
from ..models import Session
from ..storage._binding import binding_of
from ..storage._blob_collection import blob_area, blob_refs, read_blobs
from ..storage._blobs import BLOB_PREFIX, check_ref

__all__ = ["BLOB_RECORD", "blob_lines", "check_named", "copy_blobs", "read_blob"]

BLOB_RECORD = "blob"


def _named(sessions: Iterable[Session[Any]]) -> list[str]:
    return list(dict.fromkeys(ref for session in sessions for ref in blob_refs(session.events)))


async def _fetch(store: Any, refs: list[str]) -> dict[str, bytes]:
    found = await read_blobs(store, refs) if refs else {}
    missing = [ref for ref in refs if ref not in found]
    if missing:
        raise StorageError(f"blob {missing[0]} named by an event is missing from the store")
    return found


async def blob_lines(sessions: Sequence[Session[Any]]) -> str:
    """The blob lines for every blob the sessions' events name, read from their store.

    Raises:
        StorageError: A named blob is missing from the store.
    """
    lines = []
    for session in sessions:
        refs = list(blob_refs(session.events))
        found = await _fetch(binding_of(session).store, refs)
        for ref in refs:
            data = base64.b64encode(found[ref]).decode("ascii")
            record = {"record": BLOB_RECORD, "ref": ref, "size": len(found[ref]), "data": data}
            lines.append(json.dumps(record, separators=(",", ":")) + "\n")
    return "".join(dict.fromkeys(lines))


def read_blob(number: int, record: dict[str, Any]) -> tuple[str, bytes]:
    """The reference and bytes of a blob line, checked against each other.

    Raises:
        InvalidFileError: A bad reference, data that is not base64, or bytes whose SHA-256 is
            not the reference.
    """
    ref = record.get("ref")
    try:
        digest = check_ref(ref)
        data = base64.b64decode(str(record.get("data", "")), validate=True)
    except (InvalidInputError, binascii.Error) as exc:
        raise InvalidFileError(number, f"not a valid blob record: {exc}") from exc
    if hashlib.sha256(data).hexdigest() != digest:
        raise InvalidFileError(number, f"the blob's bytes do not have the SHA-256 of {ref}")
    return BLOB_PREFIX + digest, data


def check_named(sessions: Sequence[Session[Any]], blobs: dict[str, bytes], line: int) -> None:
    """Every blob the sessions' events name is in ``blobs``.

    Raises:
        InvalidFileError: One is not (naming it).
    """
    for ref in _named(sessions):
        if ref not in blobs:
            raise InvalidFileError(line, f"an event names blob {ref}, which the file does not hold")


async def copy_blobs(source: Any, target: Any, session: Session[Any]) -> int:
    """Write the blobs ``session``'s events name from ``source``'s blob area to ``target``'s.

    Returns:
        How many were written.

    Raises:
        StorageError: A named blob is missing from ``source``.
    """
    refs = _named([session])
    found = await _fetch(source, refs)
    area = blob_area(target)
    for ref in refs:
        await area.put(found[ref])
    return len(refs)
