"""Exporting a conversation from a store and importing one into a store, all or nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from types import ModuleType
from typing import Any

from ..conversations import SEGMENT_STATE_KEY, InfiniteConversationManager
from ..exceptions import InvalidFileError, InvalidInputError, SessionAlreadyExists, SessionNotFound
from ..models import Session
from ..storage import SessionStore, SessionStoreInterface, blob_area
from . import jsonl, openai_chat, openai_responses

__all__ = [
    "FORMATS",
    "Format",
    "OnConflict",
    "conversation_of",
    "detect_format",
    "export_session",
    "export_user",
    "import_session",
]


class Format(StrEnum):
    """The formats sessions are exported and imported in."""

    JSONL = "jsonl"
    OPENAI = "openai"
    OPENAI_RESPONSES = "openai-responses"


FORMATS: dict[str, ModuleType] = {
    Format.JSONL: jsonl,
    Format.OPENAI: openai_chat,
    Format.OPENAI_RESPONSES: openai_responses,
}
"""Format name -> its module (each has async ``dump(sessions)`` and ``load(text)``)."""


class OnConflict(StrEnum):
    """What ``import_session`` does with a session id the store already holds."""

    ERROR = "error"
    """Refuse (``SessionAlreadyExists``) and store nothing."""
    REPLACE = "replace"
    """Delete the stored session and store the imported one."""
    RENAME = "rename"
    """Give every imported session a new id (links between them follow)."""


def format_module(format: str) -> ModuleType:
    """The module of a format name; ``InvalidInputError`` names the known ones."""
    module = FORMATS.get(format)
    if module is None:
        raise InvalidInputError("format", format, f"must be one of {', '.join(FORMATS)}")
    return module


def detect_format(text: str) -> Format | None:
    """The format ``text`` looks like, judged from its shape, or None when it looks like none.

    A JSON Lines export starts with a ``{"record": ...}`` line; the OpenAI formats are one JSON
    array, of chat messages (each with a ``role`` and no ``type``) or of Responses items (some
    with a ``type``).

    Args:
        text: The text of a file to import.

    Returns:
        The format it looks like, or None.
    """
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            record = json.loads(stripped.split("\n", 1)[0])
        except ValueError:
            return None
        return Format.JSONL if isinstance(record, Mapping) and "record" in record else None
    try:
        items = json.loads(stripped) if stripped.startswith("[") else None
    except ValueError:
        return None
    if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
        return None
    if any("type" in item for item in items):
        return Format.OPENAI_RESPONSES
    return Format.OPENAI if all("role" in item for item in items) else None


async def conversation_of(
    store: SessionStoreInterface, session: Session[Any]
) -> list[Session[Any]]:
    """Every stored segment of the conversation ``session`` belongs to, oldest first.

    Args:
        store: The store holding the conversation.
        session: Any segment of the conversation, or a session that was never segmented.

    Returns:
        The segments, oldest first; just ``[session]`` for a session never segmented.
    """
    if SEGMENT_STATE_KEY not in session.state:
        return [session]
    return await InfiniteConversationManager(store=store).get_segments(session.id)


async def export_session(
    store: SessionStoreInterface, session_id: str, format: str = "jsonl"
) -> str:
    """The session as text in ``format`` (``jsonl``, ``openai`` or ``openai-responses``).

    A segment of an infinite conversation exports the whole conversation, every segment.

    Args:
        store: The store holding the session.
        session_id: The session's id (any segment's, for an infinite conversation).
        format: ``jsonl``, ``openai`` or ``openai-responses``.

    Returns:
        The text of the export.

    Raises:
        SessionNotFound: No session has that id.
        InvalidInputError: ``format`` is not a known format.
    """
    module = format_module(format)
    session = await store.get(session_id)
    if session is None:
        raise SessionNotFound(session_id)
    text: str = await module.dump(await conversation_of(store, session))
    return text


async def export_user(store: SessionStore, user_id: str, prefix: str = "") -> str:
    """Every session of a user as JSON Lines: the answer to a data-access request.

    The sessions are those ``store.erase(where={"user_id": user_id})`` would erase: the
    user's, and every session derived from them (children, later segments, forks), oldest
    first, then the blobs they name.

    Args:
        store: The store holding them.
        user_id: The user.
        prefix: Only sessions whose id starts with this (a tenant's namespace).

    Returns:
        The JSON Lines text (``import_session`` reads it back); no line for no sessions.

    Raises:
        InvalidInputError: ``user_id`` is empty or not a string.
    """
    found = await store.erase(where={"user_id": user_id}, prefix=prefix, dry_run=True)
    sessions = [s for s in [await store.get(i) for i in found.session_ids] if s is not None]
    sessions.sort(key=lambda session: (session.metadata.created_at, session.id))
    return await jsonl.dump(sessions)


async def import_session(
    store: SessionStoreInterface,
    data: str | bytes,
    format: str = "jsonl",
    *,
    on_conflict: OnConflict | str = OnConflict.ERROR,
    new_id: Callable[[], str] | None = None,
) -> list[str]:
    """Store the sessions in ``data`` (text in ``format``) and return their ids.

    The whole file is read and checked before anything is written, and if a write fails the
    sessions written so far are removed again (and replaced ones restored), so a failed import
    stores nothing.

    Args:
        store: The store to write to.
        data: The file's text (bytes are decoded as UTF-8).
        format: ``jsonl``, ``openai`` or ``openai-responses`` (``detect_format`` tells which
            one a text looks like).
        on_conflict: What to do with an id the store already holds: ``error`` (store
            nothing), ``replace`` (overwrite) or ``rename`` (new ids for every imported
            session, links between them following).
        new_id: Makes the ids ``rename`` gives (default: a random UUID).

    Returns:
        The ids of the stored sessions, in the file's order.

    Raises:
        InvalidInputError: ``format`` or ``on_conflict`` is not one of its choices.
        InvalidFileError: The file is not valid in ``format`` (naming the line); when it looks
            like another format, the message names that one.
        SessionAlreadyExists: An id is already stored and ``on_conflict`` is ``error``.
        StorageError: The store failed (what was written is removed again).
    """
    module = format_module(format)
    policy = _policy(on_conflict)
    text = data.decode() if isinstance(data, bytes) else data
    sessions, blobs = await _parsed(module, text, format)
    if policy is OnConflict.RENAME:
        sessions = renamed(sessions, new_id)
    originals = await _existing(store, sessions)
    if originals and policy is OnConflict.ERROR:
        raise SessionAlreadyExists(originals[0].id)
    area = blob_area(store)
    for data in blobs.values():  # before the events that name them
        await area.put(data)
    await _write_all(store, sessions, originals)
    return [session.id for session in sessions]


async def _parsed(
    module: Any, text: str, format: str
) -> tuple[list[Session[Any]], dict[str, bytes]]:
    """The sessions of ``text`` in ``format`` (read by ``module``) and the blobs they name,
    by reference."""
    blobs: dict[str, bytes] = {}
    try:
        if module is jsonl:
            return jsonl.parse_with_blobs(text)
        if module is openai_chat:
            return await openai_chat.load(text, blobs=blobs), blobs
        return await module.load(text), blobs
    except InvalidFileError as exc:
        looks_like = detect_format(text)
        if looks_like is None or looks_like == format:
            raise
        raise InvalidFileError(
            exc.line, f"the file looks like the {looks_like.value!r} format, not {format!r}"
        ) from exc


def _policy(value: OnConflict | str) -> OnConflict:
    try:
        return OnConflict(value)
    except ValueError:
        choices = ", ".join(choice.value for choice in OnConflict)
        raise InvalidInputError("on_conflict", value, f"must be one of {choices}") from None


async def _existing(
    store: SessionStoreInterface, sessions: Sequence[Session[Any]]
) -> list[Session[Any]]:
    found = [await store.get(session.id) for session in sessions]
    return [session for session in found if session is not None]


async def _write_all(
    store: SessionStoreInterface,
    sessions: Sequence[Session[Any]],
    originals: Sequence[Session[Any]],
) -> None:
    written: list[str] = []
    try:
        for original in originals:
            await store.delete(original.id)
        for session in sessions:
            written.append(session.id)
            await store.save(session)
    except BaseException:
        for session_id in written:
            await store.delete(session_id)
        for original in originals:
            await store.save(detached(original))
        raise


def detached(session: Session[Any]) -> Session[Any]:
    """A copy of a session that belongs to no store (saving it writes everything)."""
    return Session.model_validate(session.model_dump(mode="json", exclude={"token_summary"}))


def renamed(
    sessions: Sequence[Session[Any]], new_id: Callable[[], str] | None = None
) -> list[Session[Any]]:
    """Copies of the sessions under new ids (``new_id()``, default a random UUID), their
    parent, child and segment links following."""
    make_id = new_id if new_id is not None else lambda: str(uuid.uuid4())
    new_ids = {session.id: make_id() for session in sessions}
    return [_with_ids(session, new_ids) for session in sessions]


def _with_ids(session: Session[Any], new_ids: dict[str, str]) -> Session[Any]:
    def new(value: Any) -> Any:
        if isinstance(value, str):
            return new_ids.get(value, value)
        if isinstance(value, list):
            return [new(item) for item in value]
        return value

    data = session.model_dump(mode="json", exclude={"token_summary"})
    data["id"] = new_ids[session.id]
    data["parent_id"] = new(data["parent_id"])
    data["child_ids"] = new(data["child_ids"])
    links = data["state"].get(SEGMENT_STATE_KEY)
    if isinstance(links, dict):
        data["state"][SEGMENT_STATE_KEY] = {key: new(value) for key, value in links.items()}
    return Session.model_validate(data)
