"""Ranking for the stores without a text index: BM25 over the events a search scans.

The memory, file and Redis stores answer ``search`` by reading the events in scope and ranking
them here; SQLite (FTS5) and PostgreSQL (``tsvector``) rank in their own index. Words are
compared by their stem (``stem``: a small English suffix stemmer, so "refunds", "refunded" and
"refunding" all match "refund"); a phrase matches its words in order, next to each other.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
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
    """A matching document and its BM25 score; ``snippet`` marks its matches in ``[]``."""

    document: Document
    score: float
    _marked: frozenset[int]
    """The positions of the matched words among the document's words."""

    @property
    def snippet(self) -> str:
        """About ``_SNIPPET_WORDS`` words around the first match, each matched word in ``[]``
        (built when asked: a page needs the snippets of its own hits only)."""
        return _snippet(self.document.text, self._marked)


def _stems(text: str) -> list[str]:
    return [stem(word.lower()) for word in _TOKEN.findall(text)]


def _occurrences(
    stems: Sequence[str], clauses: Sequence[Sequence[str]], firsts: Mapping[str, list[int]]
) -> list[list[int]]:
    """Where each clause (stems in order) starts in ``stems``, in one pass over them
    (``firsts``: the clauses each stem begins)."""
    found: list[list[int]] = [[] for _ in clauses]
    size = len(stems)
    for n, value in enumerate(stems):
        for c in firsts.get(value, ()):
            clause = clauses[c]
            if len(clause) == 1 or (
                n + len(clause) <= size
                and all(stems[n + k] == word for k, word in enumerate(clause) if k)
            ):
                found[c].append(n)
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
    firsts: dict[str, list[int]] = {}
    for n, clause in enumerate(stemmed):
        firsts.setdefault(clause[0], []).append(n)
    total, length_sum = 0, 0
    held: list[tuple[Document, int, list[list[int]]]] = []
    frequency = [0] * len(stemmed)
    for document in documents:
        stems = _stems(document.text)
        total += 1
        length_sum += len(stems)
        if firsts.keys().isdisjoint(stems):
            continue
        found = _occurrences(stems, stemmed, firsts)
        if any(found):
            held.append((document, len(stems), found))
            for n, places in enumerate(found):
                frequency[n] += bool(places)
    average = length_sum / total if total else 0.0
    ranked = []
    for document, length, found in held:
        score = 0.0
        norm = _K1 * (1 - _B + _B * length / average) if average else _K1
        for n, places in enumerate(found):
            if places:
                idf = math.log(1 + (total - frequency[n] + 0.5) / (frequency[n] + 0.5))
                score += idf * len(places) * (_K1 + 1) / (len(places) + norm)
        marked = frozenset(
            p + k for n, places in enumerate(found) for p in places for k in range(len(stemmed[n]))
        )
        ranked.append(Ranked(document, score, marked))
    return ranked


def _snippet(text: str, marked: frozenset[int]) -> str:
    """About ``_SNIPPET_WORDS`` words around the first match, each matched word in ``[]``."""
    spans = [match.span() for match in _TOKEN.finditer(text)]
    first = min(marked)
    start = max(0, first - _SNIPPET_WORDS // 3)
    end = min(len(spans), start + _SNIPPET_WORDS)
    pieces = ["… "] if start > 0 else []
    cursor = spans[start][0]
    for n in range(start, end):
        begin, finish = spans[n]
        pieces.append(text[cursor:begin])
        word = text[begin:finish]
        pieces.append(f"[{word}]" if n in marked else word)
        cursor = finish
    if end < len(spans):
        pieces.append(" …")
    return " ".join("".join(pieces).split())
