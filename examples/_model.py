"""The model the examples talk to: scripted replies offline (the default), or OpenAI's chat
completions when ``OPENAI_API_KEY`` is set (``pip install "llm-sessions[openai]"``).

Either way the reply comes back as an assistant message dict, with the provider's usage when
there is one (``None`` for a scripted reply: the library then counts tokens itself).
"""

from __future__ import annotations

import os
from typing import Any

MODEL = "gpt-4o-mini"


def online() -> bool:
    """Whether replies come from OpenAI rather than the script."""
    return bool(os.environ.get("OPENAI_API_KEY"))


def mode() -> str:
    """One line saying where the replies come from."""
    return f"replies from OpenAI {MODEL}" if online() else "offline: scripted model replies"


async def reply(
    messages: list[dict[str, Any]], scripted: str | dict[str, Any], **options: Any
) -> tuple[dict[str, Any], Any]:
    """The assistant's next message for ``messages`` and the provider's usage.

    ``scripted`` is the offline answer: text, or a whole assistant message (tool calls).
    ``options`` (``tools=...``) go to OpenAI.
    """
    if not online():
        if isinstance(scripted, str):
            return {"role": "assistant", "content": scripted}, None
        return scripted, None
    from openai import AsyncOpenAI

    async with AsyncOpenAI() as client:
        response = await client.chat.completions.create(model=MODEL, messages=messages, **options)
    return response.choices[0].message.model_dump(exclude_none=True), response.usage


async def say(messages: list[dict[str, Any]], scripted: str) -> tuple[str, Any]:
    """The text of the next reply, and the provider's usage."""
    message, usage = await reply(messages, scripted)
    return message.get("content") or "", usage
