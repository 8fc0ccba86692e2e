"""User messages with attachments as chat-completions content parts.

A stored message keeps ``{"content": [parts]}`` where an attachment part holds a blob
reference. Rendering makes chat parts whose URL is still that reference and which carry the
part's facts under ``ATTACHMENT_FACTS`` (so the budget can count the image's tokens);
``resolve_attachments`` then puts the bytes in as data URLs and drops the facts.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from ..exceptions import StorageError
from ..models._attachment import ATTACHMENT_PART
from ..tokens._image_tokens import ATTACHMENT_FACTS

__all__ = ["ATTACHMENT_FACTS", "attachment_content", "chat_parts", "resolve_attachments"]

Fetch = Callable[[list[str]], Awaitable[dict[str, bytes]]]


def attachment_content(message: Any) -> list[Any] | None:
    """The content list of a stored message that has attachments, else None."""
    content = message.get("content") if isinstance(message, Mapping) else None
    if isinstance(content, list) and any(_is_attachment(part) for part in content):
        return content
    return None


def _is_attachment(part: Any) -> bool:
    return isinstance(part, Mapping) and part.get("type") == ATTACHMENT_PART


def chat_parts(content: Iterable[Any]) -> list[dict[str, Any]]:
    """Chat-completions content parts for a stored content list."""
    parts: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, str):
            parts.append({"type": "text", "text": part})
        elif _is_attachment(part):
            parts.append(_chat_part(part))
        elif isinstance(part, Mapping) and isinstance(part.get("text"), str):
            parts.append({"type": "text", "text": part["text"]})  # input_text, output_text
        elif isinstance(part, Mapping):
            parts.append(dict(part))
    return parts


def _chat_part(part: Mapping[str, Any]) -> dict[str, Any]:
    source = part.get("url") or part.get("ref")
    facts = dict(part)
    if str(part.get("media_type", "")).startswith("image/"):
        image = {"url": source, "detail": part.get("detail", "auto")}
        return {"type": "image_url", "image_url": image, ATTACHMENT_FACTS: facts}
    file = {"filename": part.get("name") or "file", "file_data": source}
    return {"type": "file", "file": file, ATTACHMENT_FACTS: facts}


async def resolve_attachments(messages: list[dict[str, Any]], fetch: Fetch) -> list[dict[str, Any]]:
    """``messages`` with each referenced blob put in as a data URL and the facts dropped
    (messages with attachments are copied; the others are the same objects).

    Args:
        messages: Rendered chat messages.
        fetch: Reads blobs by reference.

    Returns:
        The messages to send.

    Raises:
        StorageError: A blob an event names is missing from the store.
    """
    wanted = sorted(
        {
            part[ATTACHMENT_FACTS]["ref"]
            for message in messages
            for part in _attachment_parts(message)
            if _needs_bytes(part)
        }
    )
    found = await fetch(wanted) if wanted else {}
    return [_resolved(message, found) for message in messages]


def _attachment_parts(message: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    content = message.get("content")
    if not isinstance(content, list):
        return []
    return [part for part in content if isinstance(part, Mapping) and ATTACHMENT_FACTS in part]


def _resolved(message: dict[str, Any], found: Mapping[str, bytes]) -> dict[str, Any]:
    if not _attachment_parts(message):
        return message
    content = [
        _resolved_part(part, found) if isinstance(part, Mapping) else part
        for part in message["content"]
    ]
    return {**message, "content": content}


def _resolved_part(part: Mapping[str, Any], found: Mapping[str, bytes]) -> dict[str, Any]:
    if ATTACHMENT_FACTS not in part:
        return dict(part)
    facts = part[ATTACHMENT_FACTS]
    kind = part["type"]
    inner = dict(part["image_url"] if kind == "image_url" else part["file"])
    if _needs_bytes(part):
        data = found.get(facts["ref"])
        if data is None:
            raise StorageError(f"blob {facts['ref']} named by an event is missing from the store")
        url = f"data:{facts['media_type']};base64,{base64.b64encode(data).decode('ascii')}"
        inner["url" if kind == "image_url" else "file_data"] = url
    return {"type": kind, kind: inner}


def _needs_bytes(part: Mapping[str, Any]) -> bool:
    facts = part[ATTACHMENT_FACTS]
    return not facts.get("url") and isinstance(facts.get("ref"), str)
