"""Recall: the best matching messages of the same user's other sessions, as one system message.

A conversation with a ``Recall`` policy searches, once per prompt, the user's other sessions
for the newest user message's words (``SessionStore.search`` scoped by ``user_id``), leaves
out the current session's own events and what the prompt already holds, and offers the rest
to the budget as one system message placed right after the system prompt: the most hits that
fit both the policy's ``max_tokens`` and what is left of the prompt's budget.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..exceptions import InvalidInputError, InvalidSessionOperation
from ..models._event_source import EventSource
from ..models._event_text import search_text
from ..models._event_type import EventType
from ..models._session_event import SessionEvent
from ..storage import SearchHit, SessionStore, SessionStoreInterface
from ..storage._fleet_checks import check_id_prefix
from ..storage._search_query import MAX_QUERY_CHARS, MAX_SEARCH_LIMIT, words_of
from ._budget import Candidate, message_cache
from ._builder import prompt_from_events
from ._render import ChatRole, Message
from ._strategies import PromptStrategy

__all__ = [
    "RECALL_HEADER",
    "RECALL_POSITION",
    "Recall",
    "RecalledHit",
    "find_recalled",
    "prompt_with_recall",
    "recall_candidate",
    "recall_query",
    "repeated_hits",
]

SCOPES = ("user",)
"""Whose sessions recall searches: ``"user"``, the other sessions of the session's user."""
MAX_K = 50
"""The most hits a recall message carries."""
MAX_QUERY_WORDS = 32
"""The most words of the user's message a recall search uses (the search's own limit)."""
RECALL_HEADER = "Relevant messages from this user's earlier conversations:"
"""The first line of a recall message."""
RECALL_POSITION = (-1, 0)
"""Where the recall message sits in the prompt: before the history, after the system prompt."""

_MAX_WORD_CHARS = 30  # longer runs (hashes, ids, base64) are not words a user would repeat
_MARKER = re.compile(r"[\[\]]")
# Common words: they match nearly everything, so a query of them alone recalls nothing.
_STOP_WORDS = frozenset(
    "a about all also am an and any are as at be been but by can could did do does for from "
    "had has have he her him his how i if in into is it its just me my no not of on or our "
    "out she so than that the their them then there these they this to up us was we were "
    "what when where which who why will with would you your".split()
)


@dataclass(frozen=True, slots=True)
class Recall:
    """Add the best matching messages of the user's other sessions to each prompt.

    Args:
        k: The most earlier messages recalled per prompt (1 to 50).
        scope: Whose sessions are searched: ``"user"``, the other sessions of the current
            session's user (never another user's; a session without a user recalls nothing).
        max_tokens: The most tokens the recall message may take (it also counts in the
            prompt's own budget).
        prefix: Only sessions whose id starts with this (a tenant's namespace); a tenant's
            view of a store (``TenantStore``) applies its own on top.

    Raises:
        InvalidInputError: A value is out of range or not of its type, naming it.
    """

    k: int = 5
    scope: str = "user"
    max_tokens: int = 500
    prefix: str = ""

    def __post_init__(self) -> None:
        _check_whole("k", self.k, 1, MAX_K)
        if not isinstance(self.scope, str) or self.scope not in SCOPES:
            allowed = ", ".join(repr(scope) for scope in SCOPES)
            raise InvalidInputError("scope", self.scope, f"must be one of {allowed}")
        _check_whole("max_tokens", self.max_tokens, 1, None)
        check_id_prefix(self.prefix)

    @property
    def search_limit(self) -> int:
        """How many hits the one search of a prompt asks for: room for the current session's
        own hits and repeats, which are left out, beside the ``k`` recalled."""
        return min(MAX_SEARCH_LIMIT, 4 * self.k + 10)


def _check_whole(name: str, value: object, minimum: int, maximum: int | None) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        limit = f"from {minimum} to {maximum}" if maximum is not None else f">= {minimum}"
        raise InvalidInputError(name, value, f"must be a whole number {limit}")


@dataclass(frozen=True, slots=True)
class RecalledHit:
    """A hit as the recall message shows it: its date and its snippet without the marks."""

    hit: SearchHit
    text: str

    @property
    def line(self) -> str:
        """The hit's line in the recall message."""
        return f"- ({self.hit.created_at.date().isoformat()}) {self.text}"


def recall_query(events: Sequence[SessionEvent[Any]]) -> str | None:
    """The search for the newest user message among ``events``: its distinct words, common
    ones left out, the longest kept when there are too many; None when nothing is left."""
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if event.type is EventType.MESSAGE and event.source is EventSource.USER:
            return _query_of(search_text(event))
    return None


def _query_of(text: str) -> str | None:
    words = [
        word
        for word in dict.fromkeys(words_of(text))
        if word not in _STOP_WORDS and len(word) <= _MAX_WORD_CHARS
    ]
    if len(words) > MAX_QUERY_WORDS:
        longest = set(sorted(words, key=len, reverse=True)[:MAX_QUERY_WORDS])
        words = [word for word in words if word in longest][:MAX_QUERY_WORDS]
    query = " ".join(words)[:MAX_QUERY_CHARS]
    return query or None


async def find_recalled(
    store: SessionStoreInterface, recall: Recall, user_id: str, session_id: str, query: str
) -> list[RecalledHit]:
    """The hits of ``user_id``'s sessions but ``session_id`` for ``query``, best first, each
    text once: one search of ``store``."""
    if not isinstance(store, SessionStore):
        raise InvalidSessionOperation("recall", f"the store {type(store).__name__} cannot search")
    page = await store.search(
        query, where={"user_id": user_id}, limit=recall.search_limit, prefix=recall.prefix
    )
    found: list[RecalledHit] = []
    seen: set[str] = set()
    for hit in page.items:
        if hit.session_id == session_id or hit.user_id != user_id:
            continue
        text = " ".join(_MARKER.sub("", hit.snippet).split())
        key = _normal(text)
        if key and key not in seen:
            seen.add(key)
            found.append(RecalledHit(hit, text))
    return found


def recall_candidate(
    recalled: Sequence[RecalledHit], recall: Recall, model: str
) -> Candidate | None:
    """The recall message with the most hits (at most ``k``) within ``recall.max_tokens``,
    and smaller versions (fewer hits) for a budget with less room; None when none fits."""
    lines: list[str] = []
    versions: list[list[Message]] = []
    for item in recalled:
        if len(lines) == recall.k:
            break
        message = _message([*lines, item.line])
        if message_cache.tokens(message, model) <= recall.max_tokens:
            lines.append(item.line)
            versions.append([message])
    if not versions:
        return None
    versions.reverse()
    return Candidate(RECALL_POSITION, versions[0], tuple(versions[1:]))


def _message(lines: Iterable[str]) -> Message:
    return {"role": ChatRole.SYSTEM.value, "content": "\n".join([RECALL_HEADER, *lines])}


def repeated_hits(
    recalled: Sequence[RecalledHit], messages: Sequence[Message]
) -> list[RecalledHit]:
    """The hits whose text one of ``messages`` (the rest of the prompt) already holds."""
    held = "\n".join(_normal(text) for message in messages for text in _texts(message))
    return [item for item in recalled if _held(item.text, held)]


def _held(text: str, held: str) -> bool:
    pieces = [_normal(piece) for piece in text.split("…")]
    pieces = [piece for piece in pieces if piece]
    return bool(pieces) and all(piece in held for piece in pieces)


def _normal(text: str) -> str:
    return " ".join(_MARKER.sub("", text).lower().split())


def _texts(message: Mapping[str, Any]) -> Iterable[str]:
    content = message.get("content")
    if isinstance(content, str):
        yield content
    elif isinstance(content, list):
        for part in content:
            if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                yield part["text"]
    for call in message.get("tool_calls") or ():
        function = call.get("function") if isinstance(call, Mapping) else None
        if isinstance(function, Mapping):
            yield str(function.get("name") or "")
            yield str(function.get("arguments") or "")


def prompt_with_recall(
    events: Sequence[SessionEvent[Any]],
    budget: int | None,
    model: str,
    recalled: Sequence[RecalledHit],
    recall: Recall,
    system: Message | None,
) -> list[Message]:
    """The CONVERSATION prompt of ``events`` within ``budget``, with the recall message of
    the hits the rest of the prompt (and ``system``, the system prompt) does not hold."""
    while True:
        candidate = recall_candidate(recalled, recall, model)
        messages = prompt_from_events(
            events, PromptStrategy.CONVERSATION, budget, model, recalled=candidate
        )
        own = {id(version[0]) for version in candidate.versions()} if candidate else set()
        rest = [message for message in messages if id(message) not in own]
        repeated = repeated_hits(recalled, rest if system is None else [system, *rest])
        if not repeated:
            return messages
        recalled = [item for item in recalled if item not in repeated]
