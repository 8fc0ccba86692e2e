"""User messages with attachments: blobs stored first, then an event holding references."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..exceptions import InvalidInputError
from ..models._attachment import Attachment
from ..models._event_source import EventSource
from ..models._session_event import SessionEvent
from ..storage._blob_collection import blob_area
from ..tokens._image_tokens import image_tokens

__all__ = ["attachment_event", "has_attachments", "image_tokens_of", "store_attachments"]


def has_attachments(message: Any) -> bool:
    """Whether ``message`` is a list holding at least one ``Attachment``."""
    return isinstance(message, list) and any(isinstance(item, Attachment) for item in message)


def _check_items(message: Sequence[Any]) -> None:
    for index, item in enumerate(message):
        if not isinstance(item, str | Attachment):
            raise InvalidInputError(
                f"message[{index}]", item, "must be text or an Attachment in a list"
            )


async def store_attachments(message: Sequence[Any], store: Any) -> tuple[dict[str, Any], str]:
    """Store the bytes of every attachment in ``message`` in ``store``'s blob area.

    Args:
        message: Texts and attachments, in order.
        store: The session store.

    Returns:
        The message to record (``{"content": [parts]}``, parts holding references) and its
        text (the text parts, joined by blank lines) to count.

    Raises:
        InvalidInputError: An item that is neither text nor an attachment, or a blob over the
            store's limit (nothing is recorded; blobs already written are collected later).
    """
    _check_items(message)
    area = blob_area(store)
    parts: list[Any] = []
    for item in message:
        if isinstance(item, str):
            parts.append({"type": "text", "text": item})
        else:
            ref = None if item.data is None else await area.put(item.data)
            parts.append(item.part(ref))
    text = "\n\n".join(item for item in message if isinstance(item, str))
    return {"content": parts}, text


def image_tokens_of(message: Sequence[Any], model: str) -> int:
    """The input tokens of the images in ``message`` for ``model``, by OpenAI's rules.

    Args:
        message: Texts and attachments.
        model: The model the tokens are counted for.

    Returns:
        The tokens.
    """
    return sum(
        image_tokens(model, item.width, item.height, item.detail)
        for item in message
        if isinstance(item, Attachment) and item.is_image
    )


async def attachment_event(
    message: Sequence[Any], store: Any, model: str, metadata: dict[str, Any]
) -> SessionEvent[Any]:
    """The user event for a message with attachments, its blobs already stored; its prompt
    tokens are the text's plus the images' (priced at ``model``'s input price).

    Args:
        message: Texts and attachments.
        store: The session store.
        model: The model that counts and prices the message.
        metadata: The event's metadata.

    Returns:
        The event, not yet in any session.

    Raises:
        InvalidInputError: As ``store_attachments``.
    """
    recorded, text = await store_attachments(message, store)
    event = await SessionEvent.create_with_tokens(
        message=recorded, prompt=text, model=model, source=EventSource.USER, metadata=metadata
    )
    if event.token_usage is not None:
        await event.token_usage.update(prompt_tokens=image_tokens_of(message, model))
    return event
