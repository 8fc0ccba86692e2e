"""Encryption at rest: the one codec every durable store applies to what carries user content.

A store given ``encryption_key=`` (or, by default, ``LLM_SESSIONS_ENCRYPTION_KEY``) writes each
event as ``{"id": "<event id>", "enc": "<key id>:<base64 nonce + AES-GCM ciphertext>"}``, each
run the same way, and each state value and metadata property as ``{"~enc~": "<key id>:<...>"}``:
the ids stay readable (stores index events and runs by them), everything else is sealed with
AES-256-GCM, the record's place (event id, run id, state or property key) bound in as associated
data so a record cannot be moved to another place. The key id beside each record lets keys
rotate: a store holds one current key (it writes with it) and may hold older ones (it reads with
any of them).

Left readable: session, parent, child, task, run and event ids, state and property keys,
timestamps, expiry and removal records (event ids only). Token totals are not stored: they are
derived from the (sealed) events.

A key is 32 random bytes in url-safe base64 (``generate_key()``, ``llm-sessions keygen``).
Reading an encrypted record without the key, or with a different one, raises
``EncryptionKeyError``; tampered data never decrypts to anything.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ..exceptions import EncryptionKeyError, InvalidInputError
from ._records import StoredPage, StoredSession
from ._sync import WriteBatch

__all__ = [
    "ENCRYPTION_KEY_ENV_VAR",
    "RecordCipher",
    "cipher_for",
    "generate_key",
    "key_id",
]

ENCRYPTION_KEY_ENV_VAR = "LLM_SESSIONS_ENCRYPTION_KEY"
_EVENT_MARK = '","enc":"'
_EVENT_MARK_BYTES = _EVENT_MARK.encode()
_VALUE_MARK = "~enc~"
_STATE = "state"
_PROPERTY = "properties"
_NONCE_BYTES = 12

KeyInput = str | bytes
"""A key: its url-safe base64 text, or the 32 raw bytes."""


def generate_key() -> str:
    """A new random key, as url-safe base64 text."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def key_id(key: bytes) -> str:
    """The short id stored beside each record sealed with ``key`` (not secret)."""
    return hashlib.sha256(b"llm-sessions key id\0" + key).hexdigest()[:12]


def _key_bytes(value: KeyInput, field: str) -> bytes:
    if isinstance(value, bytes) and len(value) == 32:
        return value
    if isinstance(value, str):
        try:
            raw = base64.urlsafe_b64decode(value.strip().encode())
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) == 32:
            return raw
    raise InvalidInputError(
        field, "<hidden>", "must be 32 bytes as url-safe base64 (see llm-sessions keygen)"
    )


class RecordCipher:
    """Seals and opens a store's records; with no keys it only recognises sealed records."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        try:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        except ImportError as exc:
            raise ImportError(
                "encryption at rest needs the cryptography package: "
                'pip install "llm-sessions[encryption]"'
            ) from exc

        from cryptography.exceptions import InvalidTag

        self._invalid_tag: type[Exception] = InvalidTag
        self.keys = list(keys)
        self._by_id = {key_id(key): AESGCM(key) for key in keys}
        self.current_id: str | None = key_id(keys[0]) if keys else None

    def rotated(self, new_key: KeyInput) -> RecordCipher:
        """A cipher that writes with ``new_key`` and still reads with this one's keys."""
        key = _key_bytes(new_key, "new_key")
        return RecordCipher([key, *(old for old in self.keys if old != key)])

    @property
    def key_ids(self) -> list[str]:
        """Ids of the keys this cipher reads with (the current one first)."""
        return list(self._by_id)

    def seal_batch(self, batch: WriteBatch) -> WriteBatch:
        """The batch with its event bodies, runs, state values and properties sealed with the
        current key."""
        if self.current_id is None:
            return batch
        changes = batch.header
        header = replace(
            changes,
            state_set={k: self.seal_value(_STATE, k, v) for k, v in changes.state_set.items()},
            properties_set={
                k: self.seal_value(_PROPERTY, k, v) for k, v in changes.properties_set.items()
            },
            runs_upserted={i: self.seal_run(i, body) for i, body in changes.runs_upserted.items()},
        )
        return replace(
            batch,
            header=header,
            appended=[(i, self._seal_event(i, body)) for i, body in batch.appended],
            updated=[(i, self._seal_event(i, body)) for i, body in batch.updated],
        )

    def open_session(self, stored: StoredSession) -> StoredSession:
        """The stored session with its events, runs, state and properties opened (a header
        part that is not what stores write is left as it is, for the reader to report)."""
        header = stored.header
        opened = replace(
            header,
            state=self._open_values(_STATE, header.state),
            properties=self._open_values(_PROPERTY, header.properties),
            runs=[self.open_run(row) for row in header.runs],
        )
        return replace(
            stored,
            header=opened,
            events=self._open_rows(stored.events, stored.location),
        )

    def _open_values(self, place: str, values: Any) -> Any:
        # Only a dict holding the mark can be sealed; a refresh reads every value each turn.
        if not isinstance(values, dict) or not any(
            type(value) is dict and _VALUE_MARK in value for value in values.values()
        ):
            return values
        return {key: self.open_value(place, key, value) for key, value in values.items()}

    def open_page(self, page: StoredPage) -> StoredPage:
        """The page with its events opened."""
        return replace(page, events=self._open_rows(page.events, page.location))

    def _open_rows(self, rows: Sequence[str | bytes], location: str) -> Sequence[str | bytes]:
        # Only a row that holds the mark can be sealed: the others are left as they are
        # (bytes stay bytes). A log without sealed rows is returned as it is, found by one
        # loop without a call per row.
        sealed = _sealed_positions(rows)
        if not sealed:
            return rows
        opened = list(rows)
        for n in sealed:
            opened[n] = self.open_row(rows[n], location)
        return opened

    def open_row(self, row: str | bytes, location: str) -> str | bytes:
        """An event row as JSON text: opened if sealed, unchanged if not."""
        text = row.decode() if isinstance(row, bytes) else row
        if not text.startswith('{"id":"'):
            return row
        end = text.find('"', 7)
        if not text.startswith(_EVENT_MARK, end):
            return row
        event_id = text[7:end]
        if "\\" in event_id:  # an escaped id: let the JSON parser read it
            event_id = json.loads(text)["id"]
        # The key id and base64 text hold nothing JSON escapes: the value ends at the next quote.
        start = end + len(_EVENT_MARK)
        sealed = text[start : text.find('"', start)]
        return self._open(sealed, event_id, f"event {event_id} at {location}")

    def _seal_event(self, event_id: str, body: str) -> str:
        if event_id.startswith("~"):  # removal records hold only event ids
            return body
        sealed = self._seal(body, event_id)
        return json.dumps({"id": event_id, "enc": sealed}, separators=(",", ":"))

    def seal_value(self, place: str, key: str, text: str) -> str:
        """A state value or property (``place``: ``"state"`` or ``"properties"``), as JSON
        text, sealed with the current key."""
        sealed = self._seal(text, f"{place}:{key}")
        return json.dumps({_VALUE_MARK: sealed}, separators=(",", ":"))

    def seal_run(self, run_id: str, body: str) -> str:
        """A run's JSON sealed with the current key, its id left readable."""
        sealed = self._seal(body, f"run:{run_id}")
        return json.dumps({"id": run_id, "enc": sealed}, separators=(",", ":"))

    def sealed_with_current(self, value: Any) -> bool:
        """Whether a stored state value, property or run (parsed JSON) is sealed with the
        current key (with no key: whether it is plain)."""
        if is_sealed_value(value):
            sealed = value[_VALUE_MARK]
        elif is_sealed_run(value):
            sealed = value["enc"]
        else:
            return self.current_id is None
        return isinstance(sealed, str) and sealed.partition(":")[0] == self.current_id

    def open_value(self, place: str, key: str, value: Any) -> Any:
        """A stored state value or property (parsed JSON): opened if sealed, as is if not."""
        if is_sealed_value(value):
            what = f"{place} {key!r}"
            return json.loads(self._open(value[_VALUE_MARK], f"{place}:{key}", what))
        return value

    def open_run(self, row: str | bytes) -> str | bytes:
        """A stored run's JSON: opened if sealed, unchanged if not."""
        # Stores may reformat a run's JSON: parse it (only if it can be sealed) rather than scan.
        text = row.decode() if isinstance(row, bytes) else row
        if '"enc"' not in text:
            return row
        try:
            value = json.loads(text)
        except ValueError:
            return row  # unreadable: left for the reader to report
        if not is_sealed_run(value):
            return row
        return self._open(value["enc"], f"run:{value['id']}", f"run {value['id']}")

    def seal_bytes(self, data: bytes, context: str) -> bytes:
        """``data`` sealed with the current key (``~enc~<key id>:`` then nonce and ciphertext),
        ``context`` bound in; unchanged when this cipher has no key."""
        if self.current_id is None:
            return data
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._by_id[self.current_id].encrypt(nonce, data, context.encode())
        return f"{_VALUE_MARK}{self.current_id}:".encode() + nonce + sealed

    def open_bytes(self, data: bytes, context: str) -> bytes:
        """What ``seal_bytes`` sealed (bytes it did not seal are returned as they are).

        Raises:
            EncryptionKeyError: Sealed with a key this cipher lacks, or altered.
        """
        mark = _VALUE_MARK.encode()
        if not data.startswith(mark):
            return data
        kid, _, payload = data[len(mark) :].partition(b":")
        aead = self._by_id.get(kid.decode("ascii", "replace"))
        if aead is None:
            raise EncryptionKeyError(
                f"{context} is encrypted with key id {kid.decode('ascii', 'replace')}, which "
                f"this store lacks. Pass encryption_key= (or set {ENCRYPTION_KEY_ENV_VAR})"
            )
        try:
            return bytes(
                aead.decrypt(payload[:_NONCE_BYTES], payload[_NONCE_BYTES:], context.encode())
            )
        except self._invalid_tag as exc:
            raise EncryptionKeyError(f"{context} does not decrypt: it was altered") from exc

    def _seal(self, text: str, context: str) -> str:
        assert self.current_id is not None
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._by_id[self.current_id].encrypt(nonce, text.encode(), context.encode())
        return f"{self.current_id}:{base64.b64encode(nonce + sealed).decode()}"

    def _open(self, sealed: str, context: str, what: str) -> str:
        kid, _, payload = sealed.partition(":")
        aead = self._by_id.get(kid)
        if aead is None:
            held = ", ".join(self._by_id) or "none"
            raise EncryptionKeyError(
                f"{what} is encrypted with key id {kid}, and this store's keys are: {held}. "
                f"Pass encryption_key= (or set {ENCRYPTION_KEY_ENV_VAR}) with that key"
            )
        try:
            raw = binascii.a2b_base64(payload)
            return aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode()).decode()
        except (self._invalid_tag, binascii.Error, ValueError) as exc:
            raise EncryptionKeyError(
                f"{what} does not decrypt with key id {kid}: it was altered or is not ours"
            ) from exc


def _sealed_positions(rows: Sequence[str | bytes]) -> list[int]:
    try:
        if rows and isinstance(rows[0], bytes):
            # Most logs hold no sealed row: for bytes (Redis), one search of the rows joined
            # answers that in half the time of a search per row.
            if _EVENT_MARK_BYTES not in b"".join(rows):  # type: ignore[arg-type]
                return []
            return [n for n, row in enumerate(rows) if _EVENT_MARK_BYTES in row]
        return [n for n, row in enumerate(rows) if _EVENT_MARK in row]
    except TypeError:  # text and bytes mixed
        return [n for n, row in enumerate(rows) if _may_be_sealed(row)]


def _may_be_sealed(row: str | bytes) -> bool:
    if isinstance(row, bytes):
        return _EVENT_MARK_BYTES in row
    return _EVENT_MARK in row


def is_sealed_value(value: Any) -> bool:
    """Whether a stored state value or property is sealed."""
    return isinstance(value, dict) and len(value) == 1 and _VALUE_MARK in value


def is_sealed_run(value: Any) -> bool:
    """Whether a stored run (its parsed JSON) is sealed."""
    return isinstance(value, dict) and value.keys() == {"id", "enc"}


def cipher_for(encryption_key: KeyInput | Sequence[KeyInput] | None) -> RecordCipher:
    """The cipher of a store's ``encryption_key`` option: a key, or keys (the current one
    first, then older ones to read with); None reads ``LLM_SESSIONS_ENCRYPTION_KEY``."""
    if encryption_key is None:
        encryption_key = os.environ.get(ENCRYPTION_KEY_ENV_VAR) or None
    if encryption_key is None:
        return _PLAIN
    given = [encryption_key] if isinstance(encryption_key, str | bytes) else encryption_key
    if not given:
        raise InvalidInputError("encryption_key", [], "must name at least one key")
    return RecordCipher([_key_bytes(key, "encryption_key") for key in given])


class _PlainCipher(RecordCipher):
    """The cipher of a store without keys (no import of ``cryptography`` needed)."""

    def __init__(self) -> None:
        self._invalid_tag = ValueError
        self.keys = []
        self._by_id = {}
        self.current_id = None


_PLAIN = _PlainCipher()
