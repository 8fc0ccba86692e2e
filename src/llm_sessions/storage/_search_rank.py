"""Ranking for the stores without a text index: BM25 over the events a search scans.

The memory, file and Redis stores answer ``search`` by reading the events in scope and ranking
them here; SQLite (FTS5) and PostgreSQL (``tsvector``) rank in their own index. Words are
compared by their stem (``stem``: a small English suffix stemmer, so "refunds", "refunded" and
"refunding" all match "refund"); a phrase matches its words in order, next to each other.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Document", "Ranked", "rank", "stem"]

_TOKEN = re.compile(r"[^\W_]+")
_K1 = 1.2
_B = 0.75
_SNIPPET_WORDS = 24
_VOWELS = frozenset("aeiouy")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The stem of a lower-case word: plural and verb endings taken off.

    ``stem("refunds") == stem("refunded") == stem("refunding") == "refund"``; a final ``e``
    goes too, so "hope" and "hoping" meet at "hop". Short words are left alone.
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, replacement in (("ies", "y"), ("ied", "y"), ("sses", "ss")):
        if word.endswith(suffix):
            return word[: -len(suffix)] + replacement
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ingly", "edly", "ing", "ed", "ly"):
        base = word[: -len(suffix)]
        if word.endswith(suffix) and len(base) >= 3 and _VOWELS & set(base):
            word = base
            if word[-1] == word[-2] and word[-1] not in "lsz" and word[-1] not in _VOWELS:
                word = word[:-1]
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


@dataclass(frozen=True)
class Document:
    """One scanned event: who it is, and its text."""

    key: tuple[str, str]
    """(session id, event id)."""
    text: str


@dataclass(frozen=True)
class Ranked:
    """A matching document, its BM25 score, and its snippet with matches in ``[]``."""

    document: Document
    score: float
    snippet: str


@dataclass
class _Tokens:
    spans: list[tuple[int, int]]
    stems: list[str]


def _tokens(text: str) -> _Tokens:
    spans, stems = [], []
    for match in _TOKEN.finditer(text):
        spans.append(match.span())
        stems.append(stem(match.group().lower()))
    return _Tokens(spans, stems)


def _occurrences(stems: Sequence[str], clause: Sequence[str]) -> list[int]:
    """Where ``clause`` (stems in order) starts in ``stems``."""
    first, rest = clause[0], clause[1:]
    found = []
    for n, value in enumerate(stems):
        if value == first and all(
            n + k + 1 < len(stems) and stems[n + k + 1] == word for k, word in enumerate(rest)
        ):
            found.append(n)
    return found


def rank(documents: Iterable[Document], clauses: Sequence[Sequence[str]]) -> list[Ranked]:
    """The documents holding any clause, scored by BM25 over all ``documents``.

    Args:
        documents: every scanned event (the corpus the document frequencies count).
        clauses: the query's words and phrases (lower-cased words, see ``SearchQuery``).

    Returns:
        The matching documents, unordered.
    """
    stemmed = [tuple(stem(word) for word in clause) for clause in clauses]
    total, length_sum = 0, 0
    held: list[tuple[Document, _Tokens, list[list[int]]]] = []
    frequency = [0] * len(stemmed)
    for document in documents:
        tokens = _tokens(document.text)
        total += 1
        length_sum += len(tokens.stems)
        found = [_occurrences(tokens.stems, clause) for clause in stemmed]
        if any(found):
            held.append((document, tokens, found))
            for n, places in enumerate(found):
                frequency[n] += bool(places)
    average = length_sum / total if total else 0.0
    ranked = []
    for document, tokens, found in held:
        score = 0.0
        norm = _K1 * (1 - _B + _B * len(tokens.stems) / average) if average else _K1
        for n, places in enumerate(found):
            if places:
                idf = math.log(1 + (total - frequency[n] + 0.5) / (frequency[n] + 0.5))
                score += idf * len(places) * (_K1 + 1) / (len(places) + norm)
        marked = {
            p + k for n, places in enumerate(found) for p in places for k in range(len(stemmed[n]))
        }
        ranked.append(Ranked(document, score, _snippet(document.text, tokens, marked)))
    return ranked


def _snippet(text: str, tokens: _Tokens, marked: set[int]) -> str:
    """About ``_SNIPPET_WORDS`` words around the first match, each matched word in ``[]``."""
    first = min(marked)
    start = max(0, first - _SNIPPET_WORDS // 3)
    end = min(len(tokens.spans), start + _SNIPPET_WORDS)
    pieces = ["… "] if start > 0 else []
    cursor = tokens.spans[start][0]
    for n in range(start, end):
        begin, finish = tokens.spans[n]
        pieces.append(text[cursor:begin])
        word = text[begin:finish]
        pieces.append(f"[{word}]" if n in marked else word)
        cursor = finish
    if end < len(tokens.spans):
        pieces.append(" …")
    return " ".join("".join(pieces).split())
