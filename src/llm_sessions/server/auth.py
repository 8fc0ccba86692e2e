"""API keys: each key maps to a tenant; keys are kept only as hashes and compared in constant time.

Configure them as ``LLM_SESSIONS_API_KEYS="<key>=<tenant>,<key>=<tenant>"`` or a keys file with one
``key=tenant`` a line (blank lines and ``#`` comments ignored). Requests carry
``Authorization: Bearer <key>``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from ..exceptions import InvalidInputError

__all__ = [
    "KEYS_ENV",
    "MIN_KEY_LENGTH",
    "TENANT_PATTERN",
    "ApiKeys",
    "parse_key_pairs",
    "read_keys_file",
]

KEYS_ENV = "LLM_SESSIONS_API_KEYS"
MIN_KEY_LENGTH = 16
TENANT_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""A tenant name: it becomes the prefix of the tenant's session ids."""


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


class ApiKeys:
    """The configured keys, as (hash of key, tenant) pairs."""

    def __init__(self, pairs: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        items = pairs.items() if isinstance(pairs, Mapping) else pairs
        self._entries: list[tuple[bytes, str]] = []
        for key, tenant in items:
            self._entries.append((_digest(_checked_key(key)), _checked_tenant(tenant)))
        digests = [digest for digest, _ in self._entries]
        if len(set(digests)) != len(digests):
            raise InvalidInputError("keys", "<hidden>", "the same key is configured twice")

    @classmethod
    def parse(cls, text: str, *, separator: str = ",") -> ApiKeys:
        """Keys from ``key=tenant`` entries split by ``separator`` (see ``parse_key_pairs``).

        Args:
            text: The entries, such as ``"<key>=alpha,<key>=beta"``.
            separator: What separates entries.

        Returns:
            The keys.

        Raises:
            InvalidInputError: An entry is malformed, a key is shorter than 16 characters, or a
                key is given twice.
        """
        return cls(parse_key_pairs(text, separator=separator))

    @classmethod
    def from_file(cls, path: str | Path) -> ApiKeys:
        """Keys from a file with one ``key=tenant`` a line.

        Args:
            path: The file.

        Returns:
            The keys.

        Raises:
            InvalidInputError: An entry is malformed, a key is too short, or given twice.
            OSError: The file cannot be read.
        """
        return cls(read_keys_file(path))

    def __bool__(self) -> bool:
        return bool(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def tenants(self) -> set[str]:
        """The configured tenants."""
        return {tenant for _, tenant in self._entries}

    def tenant_for(self, presented: str) -> str | None:
        """The tenant of ``presented``, or None; every entry is compared, in constant time.

        Args:
            presented: The key a request presented.

        Returns:
            The tenant's name, or None when the key is unknown.
        """
        digest = _digest(presented)
        found = None
        for stored, tenant in self._entries:
            if hmac.compare_digest(stored, digest):
                found = tenant
        return found

    def tenant_for_digest(self, matches: Callable[[bytes], bool]) -> str | None:
        """The tenant of the key whose SHA-256 digest ``matches``, or None; every entry is
        tried, so the time taken does not depend on which one matches."""
        found = None
        for stored, tenant in self._entries:
            if matches(stored):
                found = tenant
        return found


def parse_key_pairs(text: str, *, separator: str = ",") -> list[tuple[str, str]]:
    """(key, tenant) pairs from ``key=tenant`` entries; blank entries and ``#`` comments skipped."""
    pairs = []
    for number, raw in enumerate(text.split(separator), start=1):
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        key, equals, tenant = entry.rpartition("=")
        if not equals or not key:
            raise InvalidInputError(
                f"keys entry {number}", "<hidden>", "must have the form key=tenant"
            )
        pairs.append((key.strip(), tenant.strip()))
    return pairs


def read_keys_file(path: str | Path) -> list[tuple[str, str]]:
    """(key, tenant) pairs from a file with one ``key=tenant`` a line."""
    return parse_key_pairs(Path(path).read_text(encoding="utf-8"), separator="\n")


def _checked_key(key: str) -> str:
    if len(key) < MIN_KEY_LENGTH:
        raise InvalidInputError(
            "key", "<hidden>", f"must be at least {MIN_KEY_LENGTH} characters long"
        )
    if any(char.isspace() or char in ",=" for char in key):
        raise InvalidInputError("key", "<hidden>", "must not contain whitespace, ',' or '='")
    return key


def _checked_tenant(tenant: str) -> str:
    if not TENANT_PATTERN.fullmatch(tenant):
        raise InvalidInputError("tenant", tenant, "must be 1 to 64 letters, digits, '_' or '-'")
    return tenant
