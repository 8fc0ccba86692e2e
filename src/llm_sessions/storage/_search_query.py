"""The arguments of ``search``, checked once for every store.

A query is words and quoted phrases. Every word and phrase is one clause; an event matches when
it holds any clause, and ranking puts events holding more (and rarer) clauses first. Anything
that is not a letter or a digit separates words, so quotes left open, ``*``, ``:``, ``-``,
parentheses and the like are never query syntax: they cannot make a driver fail. A double quote
opens a phrase only when another one closes it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..exceptions import InvalidInputError
from ..models._event_type import EventType, parse_event_type
from ._fleet_checks import check_id_prefix, check_time_range, check_where

__all__ = [
    "MAX_QUERY_CHARS",
    "MAX_SEARCH_LIMIT",
    "SEARCH_MODES",
    "SearchAfter",
    "SearchQuery",
    "TieKey",
    "words_of",
]

MAX_QUERY_CHARS = 1000
"""The longest query ``search`` takes, in characters."""
MAX_SEARCH_LIMIT = 100
"""The largest page ``search`` returns."""
SEARCH_MODES = ("text", "semantic", "hybrid")
"""What ``search`` ranks by: words, meaning (vectors), or both fused."""
_MAX_CLAUSES = 32
_WORD = re.compile(r"[^\W_]+")
_CURSOR_SALT = b"llm-sessions/search-cursor/1:"

TieKey = tuple[str, str] | tuple[int]
"""What orders hits of equal score: (session id, event id) on the stores that scan events,
the index row's id (newest first) on SQLite."""
SearchAfter = tuple[float, TieKey]
"""Where a page of hits ends: the last hit's score and tie key."""


def words_of(text: str) -> list[str]:
    """The words of ``text``, lower-cased: runs of letters and digits."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class SearchQuery:
    """Checked arguments of ``search``; ``clauses`` are the query's words and phrases, each a
    tuple of lower-cased words (one word, or a phrase's words in order)."""

    text: str
    clauses: tuple[tuple[str, ...], ...]
    where: dict[str, Any]
    since: datetime | None
    until: datetime | None
    types: frozenset[str] | None
    limit: int
    after: SearchAfter | None
    prefix: str
    mode: str = "text"
    cursor: str | None = None
    """The cursor as given (``after`` is what it holds), for errors."""

    @classmethod
    def checked(
        cls,
        query: object,
        where: object = None,
        since: object = None,
        until: object = None,
        types: object = None,
        limit: object = 20,
        cursor: object = None,
        prefix: object = "",
        mode: object = "text",
    ) -> SearchQuery:
        """The query, or ``InvalidInputError`` naming the first argument that is not valid."""
        if mode not in SEARCH_MODES:
            raise InvalidInputError("mode", mode, f"must be one of {', '.join(SEARCH_MODES)}")
        clauses = _clauses(_check_text(query))
        start, end = check_time_range(since, until)
        if (
            isinstance(limit, bool)
            or not isinstance(limit, int)
            or not 1 <= limit <= MAX_SEARCH_LIMIT
        ):
            raise InvalidInputError(
                "limit", limit, f"must be a whole number from 1 to {MAX_SEARCH_LIMIT}"
            )
        made = cls(
            str(query),
            clauses,
            check_where(where),
            start,
            end,
            _check_types(types),
            limit,
            None,
            check_id_prefix(prefix),
            str(mode),
        )
        after = _decode_cursor(cursor, made.fingerprint())
        return made if after is None else replace(made, after=after, cursor=str(cursor))

    @property
    def scoped(self) -> bool:
        """Whether ``where`` narrows the search to some sessions."""
        return bool(self.where)

    def fingerprint(self) -> str:
        """What a cursor is tied to: everything but the cursor and the page size."""
        parts = [self.clauses, self.where, self.since, self.until, self.types, self.prefix]
        if self.mode != "text":
            parts.append(self.mode)
        text = json.dumps(
            parts,
            sort_keys=True,
            default=lambda v: sorted(v) if isinstance(v, frozenset) else str(v),
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def cursor_after(self, score: float, *key: str | int) -> str:
        """The cursor of the page that follows a hit: its score and tie key (see ``TieKey``)."""
        payload = json.dumps([self.fingerprint(), score, *key], separators=(",", ":")).encode()
        body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"{body}.{_checksum(payload)}"

    def follows(self, score: float, session_id: str, event_id: str) -> bool:
        """Whether a hit comes after the cursor (every hit without one): best score first,
        then by session id and event id.

        Raises:
            InvalidInputError: the cursor holds another store's tie key.
        """
        if self.after is None:
            return True
        return (-score, session_id, event_id) > (-self.after[0], *self.tie_ids())

    def tie_ids(self) -> tuple[str, str]:
        """The cursor's session id and event id (the scanning stores' and PostgreSQL's tie key).

        Raises:
            InvalidInputError: no cursor, or one holding another store's tie key.
        """
        key = self._tie_key()
        if len(key) == 2 and isinstance(key[0], str) and isinstance(key[1], str):
            return key[0], key[1]
        raise self._foreign_cursor()

    def tie_row(self) -> int:
        """The cursor's index row id (SQLite's tie key).

        Raises:
            InvalidInputError: no cursor, or one holding another store's tie key (or made by
                a release that ordered ties by session and event id).
        """
        key = self._tie_key()
        if len(key) == 1 and isinstance(key[0], int):
            return key[0]
        raise self._foreign_cursor()

    def _tie_key(self) -> TieKey | tuple[()]:
        return () if self.after is None else self.after[1]

    def _foreign_cursor(self) -> InvalidInputError:
        return InvalidInputError(
            "cursor", self.cursor, "is not a cursor of this store (ask for the first page again)"
        )


def _check_text(query: object) -> str:
    if not isinstance(query, str):
        raise InvalidInputError("query", query, "must be a string")
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInputError(
            "query", f"<{len(query):,} characters>", f"the limit is {MAX_QUERY_CHARS:,} characters"
        )
    try:
        query.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError(
            "query", query, "holds a lone surrogate (text that is not valid Unicode)"
        ) from None
    if not query.strip():
        raise InvalidInputError("query", query, "is empty")
    return query


def _clauses(query: str) -> tuple[tuple[str, ...], ...]:
    """Words and phrases: text between two double quotes is a phrase; an unclosed quote is
    just a separator."""
    pieces = query.split('"')
    if len(pieces) % 2 == 0:  # an odd number of quotes: the last one opens nothing
        pieces[-2:] = [pieces[-2] + " " + pieces[-1]]
    clauses: list[tuple[str, ...]] = []
    for n, piece in enumerate(pieces):
        words = words_of(piece)
        if n % 2 == 1 and len(words) > 1:
            clauses.append(tuple(words))
        else:
            clauses.extend((word,) for word in words)
    unique = tuple(dict.fromkeys(clauses))
    if not unique:
        raise InvalidInputError("query", query, "has no words to search for (letters or digits)")
    if len(unique) > _MAX_CLAUSES:
        raise InvalidInputError(
            "query", query, f"has {len(unique)} words and phrases; the limit is {_MAX_CLAUSES}"
        )
    return unique


def _check_types(types: object) -> frozenset[str] | None:
    if types is None:
        return None
    if isinstance(types, str | EventType) or not isinstance(types, Collection) or not types:
        raise InvalidInputError(
            "types", types, "must be a non-empty list of event types (or None for every type)"
        )
    names = set()
    for value in types:
        parsed = parse_event_type(value, "types")
        names.add(parsed.value if isinstance(parsed, EventType) else parsed)
    return frozenset(names)


def _checksum(payload: bytes) -> str:
    return hashlib.sha256(_CURSOR_SALT + payload).hexdigest()[:16]


def _decode_cursor(cursor: object, fingerprint: str) -> SearchAfter | None:
    if cursor is None:
        return None
    bad = InvalidInputError("cursor", cursor, "is not a cursor from this search")
    if not isinstance(cursor, str) or cursor.count(".") != 1:
        raise bad
    body, checksum = cursor.split(".")
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise bad from None
    if _checksum(payload) != checksum:
        raise InvalidInputError("cursor", cursor, "was changed or cut (its checksum is wrong)")
    try:
        made_for, score, *key = json.loads(payload)
    except (ValueError, TypeError):
        raise bad from None
    if made_for != fingerprint:
        raise InvalidInputError("cursor", cursor, "was made for another query or other filters")
    strings = len(key) == 2 and all(isinstance(k, str) for k in key)
    number = len(key) == 1 and type(key[0]) is int
    if isinstance(score, bool) or not isinstance(score, int | float) or not (strings or number):
        raise bad
    return float(score), (key[0], key[1]) if strings else (key[0],)
