"""The ``openai`` format: a JSON array of OpenAI chat messages.

Exported, a conversation is the chat messages a model would be sent for it (every segment in
order, each starting with its summary): assistant tool calls each followed by their ``tool``
result. Imported, messages become a new session: user and system messages, assistant replies
(with their ``tool_calls``) and one TOOL_CALL event per ``tool`` message, a child of the reply
that asked for it, with token counts from the real tokenizer for ``model``. Exporting an imported
conversation gives back the same messages (text content; a list of content parts is kept as
JSON text). Given a ``blobs`` dict, a user message's ``image_url`` parts holding ``data:`` URLs
become attachments by reference, their bytes in ``blobs`` for the store's blob area.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..exceptions import InvalidFileError
from ..models import EventSource, EventType, Session, SessionEvent
from ..prompting import PromptStrategy, build_prompt_from_session
from ._chat_images import images_by_reference

__all__ = ["DEFAULT_MODEL", "dump", "load", "messages_of", "session_from_messages"]

DEFAULT_MODEL = "gpt-4o-mini"
"""The model whose tokenizer counts the tokens of imported messages."""

_ROLES = ("system", "user", "assistant", "tool")


async def messages_of(sessions: Sequence[Session[Any]]) -> list[dict[str, Any]]:
    """The chat messages of the sessions (segments of one conversation), in order."""
    messages: list[dict[str, Any]] = []
    for session in sessions:
        messages.extend(await build_prompt_from_session(session, PromptStrategy.CONVERSATION))
    return messages


async def dump(sessions: Sequence[Session[Any]]) -> str:
    """The sessions' chat messages as an indented JSON array."""
    return json.dumps(await messages_of(sessions), indent=2, ensure_ascii=False) + "\n"


async def load(
    text: str, *, model: str = DEFAULT_MODEL, blobs: dict[str, bytes] | None = None
) -> list[Session[Any]]:
    """One new session holding the messages of a JSON array text (data-URL images by
    reference, their bytes added to ``blobs``, when it is given)."""
    try:
        messages = json.loads(text)
    except ValueError as exc:
        raise InvalidFileError(exc.lineno if hasattr(exc, "lineno") else 1, str(exc)) from exc
    if not isinstance(messages, list):
        raise InvalidFileError(1, f"a JSON {type(messages).__name__}, expected an array")
    return [await session_from_messages(messages, model=model, blobs=blobs)]


async def session_from_messages(
    messages: Sequence[Any],
    *,
    model: str = DEFAULT_MODEL,
    blobs: dict[str, bytes] | None = None,
) -> Session[Any]:
    """A new (unsaved) session whose events are ``messages``; item N of a bad message is named.
    Given ``blobs``, user messages' data-URL images are kept by reference, their bytes added
    to it (to be stored before the session); without it they stay inline."""
    builder = _Builder(model, blobs)
    for number, message in enumerate(messages, start=1):
        await builder.add(number, _checked(number, message))
    return Session(events=builder.events)


def _checked(number: int, message: Any) -> Mapping[str, Any]:
    if not isinstance(message, Mapping):
        raise InvalidFileError(number, f"message {message!r} is not an object")
    role = message.get("role")
    if role not in _ROLES:
        raise InvalidFileError(number, f"role {role!r} is not one of {', '.join(_ROLES)}")
    # A reply may be only tool calls, and a tool result is checked against its call first.
    needs_content = role != "tool" and not (role == "assistant" and message.get("tool_calls"))
    if needs_content and message.get("content") is None:
        raise InvalidFileError(number, f"a {role} message needs content (text or content parts)")
    return message


class _Builder:
    """Turns chat messages into events, pairing each tool result with the call it answers."""

    def __init__(self, model: str, blobs: dict[str, bytes] | None) -> None:
        self.model = model
        self.blobs = blobs
        self.events: list[SessionEvent[Any]] = []
        self.open_calls: dict[str, tuple[str, str, Any]] = {}
        """call id -> (reply event id, tool name, arguments) of calls not yet answered."""

    async def add(self, number: int, message: Mapping[str, Any]) -> None:
        role = message["role"]
        if role == "tool":
            await self._tool_result(number, message)
        elif role == "assistant":
            await self._reply(number, message)
        else:
            content = message.get("content")
            source = EventSource.USER if role == "user" else EventSource.SYSTEM
            if role == "user" and isinstance(content, list) and self.blobs is not None:
                images = images_by_reference(content, number, self.model, self.blobs)
                if images is not None:
                    event = await self._event(images.message, source, prompt=images.text)
                    assert event.token_usage is not None  # counted from the text
                    await event.token_usage.update(prompt_tokens=images.image_tokens)
                    self.events.append(event)
                    return
            text = content if isinstance(content, str) else json.dumps(content)
            self.events.append(await self._event(content, source, prompt=text))

    async def _reply(self, number: int, message: Mapping[str, Any]) -> None:
        content = message.get("content")
        calls = message.get("tool_calls")
        text = content if isinstance(content, str) else ""
        if not calls:
            self.events.append(await self._event(content, EventSource.LLM, completion=text))
            return
        if not isinstance(calls, list):
            raise InvalidFileError(number, f"tool_calls {calls!r} is not a list")
        reply = {"role": "assistant", "content": content, "tool_calls": list(calls)}
        event = await self._event(reply, EventSource.LLM, completion=text + json.dumps(calls))
        for call in calls:
            call_id, name, arguments = _call_parts(number, call)
            self.open_calls[call_id] = (event.id, name, arguments)
        self.events.append(event)

    async def _tool_result(self, number: int, message: Mapping[str, Any]) -> None:
        call_id = message.get("tool_call_id")
        if not isinstance(call_id, str) or call_id not in self.open_calls:
            raise InvalidFileError(
                number, f"tool_call_id {call_id!r} answers no earlier assistant tool call"
            )
        reply_id, name, arguments = self.open_calls.pop(call_id)
        content = message.get("content")
        result = content if isinstance(content, str) else json.dumps(content)
        record = {
            "tool": name,
            "arguments": arguments,
            "result": result,
            "error": None,
            "success": True,
            "tool_call_id": call_id,
        }
        event = await self._event(
            record, EventSource.SYSTEM, prompt=result, kind=EventType.TOOL_CALL
        )
        event.parent_event_id = reply_id
        self.events.append(event)

    async def _event(
        self,
        message: Any,
        source: EventSource,
        *,
        prompt: str | None = None,
        completion: str | None = None,
        kind: EventType = EventType.MESSAGE,
    ) -> SessionEvent[Any]:
        return await SessionEvent.create_with_tokens(
            message=message,
            prompt=prompt,
            completion=completion,
            model=self.model,
            source=source,
            type=kind,
        )


def _call_parts(number: int, call: Any) -> tuple[str, str, Any]:
    """(id, function name, arguments text) of one declared tool call."""
    function = call.get("function") if isinstance(call, Mapping) else None
    call_id = call.get("id") if isinstance(call, Mapping) else None
    name = function.get("name") if isinstance(function, Mapping) else None
    if not isinstance(call_id, str) or not call_id or not isinstance(name, str):
        raise InvalidFileError(number, f"tool call {call!r} needs an id and a function name")
    arguments = function.get("arguments", "{}") if isinstance(function, Mapping) else "{}"
    return call_id, name, arguments
