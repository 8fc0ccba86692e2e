"""Token counts: exact for OpenAI models, a labelled estimate for every other model."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import tiktoken.model

from ._image_tokens import ATTACHMENT_FACTS, image_tokens
from .pool import in_counting_pool
from .vocab import ENCODINGS, is_loaded, load_encoding

__all__ = [
    "ESTIMATE_ENCODING",
    "TokenCount",
    "count_chat_messages",
    "count_text",
    "count_text_async",
    "encoding_name_for_model",
    "truncate_text",
]

#: Encoding used to estimate models that have no public tokenizer here (Claude, Gemini, ...).
ESTIMATE_ENCODING = "o200k_base"
#: Texts longer than this are counted in the counting pool so the event loop stays responsive.
_THREAD_THRESHOLD_CHARS = 100_000
#: Texts longer than this are counted a piece at a time (see ``_pieces``).
_PIECE_CHARS = 64 * 1024
#: A cut that no tokenizer pattern crosses: one space after a non-space, before a letter. The
#: patterns of cl100k and o200k start a word with that space, and no token spans a word start.
_SAFE_CUT = re.compile(r"(?<=\S) (?=[^\W\d_])")
#: Per-message overhead of the chat format (role markers), and the reply primer, per OpenAI.
_TOKENS_PER_MESSAGE = 3
_TOKENS_PER_NAME = 1
_REPLY_PRIMER_TOKENS = 3


@dataclass(frozen=True, slots=True)
class TokenCount:
    """A token count and how it was obtained."""

    tokens: int
    exact: bool
    encoding: str


@lru_cache(maxsize=1024)
def encoding_name_for_model(model: str) -> str | None:
    """Return the shipped encoding tiktoken's own table gives ``model``, or None.

    A provider prefix such as ``openai/`` is ignored. Models whose encoding is not shipped
    (the retired GPT-3 families) and non-OpenAI models return None.

    Args:
        model: The model name (``gpt-4o-mini``, ``openai/gpt-4o``, ``claude-3-5-sonnet``, ...).

    Returns:
        The encoding's name (``o200k_base`` or ``cl100k_base``), or None.
    """
    name = model.strip().lower().removeprefix("openai/")
    try:
        encoding = tiktoken.model.encoding_name_for_model(name)
    except KeyError:
        return None
    return encoding if encoding in ENCODINGS else None


def _encoding_for(model: str) -> tuple[str, bool]:
    exact_name = encoding_name_for_model(model)
    if exact_name is None:
        return ESTIMATE_ENCODING, False
    return exact_name, True


def count_text(text: str | None, model: str) -> TokenCount:
    """Count the tokens of ``text`` as ``model`` would see it (None or "" is 0).

    Args:
        text: The text to count.
        model: The model name (``gpt-4o-mini``, ``openai/gpt-4o``, ``claude-3-5-sonnet``, ...).

    Returns:
        The count, whether it is exact (an OpenAI model) or an estimate, and the encoding.
    """
    name, exact = _encoding_for(model)
    if not text:
        return TokenCount(0, exact, name)
    encoding = load_encoding(name)
    if len(text) <= _PIECE_CHARS:
        return TokenCount(len(encoding.encode_ordinary(text)), exact, name)
    # tiktoken counts without the GIL but hands back a list of every token with it held: for
    # megabytes of text that list would stall the event loop's thread for 100 ms. Pieces keep
    # each list small, and the sum is the same count.
    return TokenCount(sum(len(encoding.encode_ordinary(p)) for p in _pieces(text)), exact, name)


def _pieces(text: str) -> list[str]:
    """``text`` cut at safe places into pieces of about ``_PIECE_CHARS`` (longer where no safe
    place comes sooner)."""
    pieces = []
    start = 0
    while len(text) - start > _PIECE_CHARS:
        cut = _SAFE_CUT.search(text, start + _PIECE_CHARS)
        if cut is None:
            break
        pieces.append(text[start : cut.start()])
        start = cut.start()
    pieces.append(text[start:])
    return pieces


def truncate_text(text: str, max_tokens: int, model: str) -> str:
    """The longest start of ``text`` that is at most ``max_tokens`` tokens for ``model``
    (a character split by the cut is dropped).

    Args:
        text: The text to cut.
        max_tokens: The most tokens to keep.
        model: The model name (``gpt-4o-mini``, ``openai/gpt-4o``, ``claude-3-5-sonnet``, ...).

    Returns:
        ``text`` itself when it fits, else its longest start that does.
    """
    name, _ = _encoding_for(model)
    encoding = load_encoding(name)
    tokens = encoding.encode_ordinary(text)
    if len(tokens) <= max_tokens:
        return text
    return encoding.decode_bytes(tokens[: max(0, max_tokens)]).decode("utf-8", errors="ignore")


async def count_text_async(text: str | None, model: str) -> TokenCount:
    """``count_text`` without blocking the event loop on first load or on very long text.

    Args:
        text: The text to count.
        model: The model name (``gpt-4o-mini``, ``openai/gpt-4o``, ``claude-3-5-sonnet``, ...).

    Returns:
        The count, as ``count_text`` gives it.
    """
    name, exact = _encoding_for(model)
    if not text:
        return TokenCount(0, exact, name)
    if len(text) > _THREAD_THRESHOLD_CHARS:
        return await in_counting_pool(count_text, text, model)
    if not is_loaded(name):
        await in_counting_pool(load_encoding, name)
    return TokenCount(len(load_encoding(name).encode_ordinary(text)), exact, name)


def _value_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def count_chat_message(message: Mapping[str, Any], model: str) -> int:
    """Tokens one chat message adds to a prompt, including the chat format's overhead.

    Args:
        message: A chat message (``{"role", "content", ...}``).
        model: The model name (``gpt-4o-mini``, ``openai/gpt-4o``, ``claude-3-5-sonnet``, ...).

    Returns:
        The number of tokens.
    """
    tokens = _TOKENS_PER_MESSAGE
    for key, value in message.items():
        if value is None:
            continue
        if key == "content" and isinstance(value, list) and _has_attachments(value):
            tokens += _parts_tokens(value, model)
            continue
        tokens += count_text(_value_text(value), model).tokens
        if key == "name":
            tokens += _TOKENS_PER_NAME
    return tokens


def _has_attachments(parts: list[Any]) -> bool:
    return any(isinstance(part, Mapping) and ATTACHMENT_FACTS in part for part in parts)


def _parts_tokens(parts: list[Any], model: str) -> int:
    """Content parts: text counted, images by OpenAI's image rule (never their URL's text),
    files by their name only (the provider's count of a document is not known here)."""
    tokens = 0
    for part in parts:
        facts = part.get(ATTACHMENT_FACTS) if isinstance(part, Mapping) else None
        if facts is None:
            tokens += count_text(_value_text(part), model).tokens
        elif str(facts.get("media_type", "")).startswith("image/"):
            detail = facts.get("detail", "auto")
            tokens += image_tokens(model, facts.get("width"), facts.get("height"), detail)
        else:
            tokens += count_text(str(facts.get("name") or ""), model).tokens
    return tokens


def count_chat_messages(messages: Iterable[Mapping[str, Any]], model: str) -> TokenCount:
    """Tokens a list of chat messages costs as a prompt, including the reply primer.

    Args:
        messages: The chat messages.
        model: The model name (``gpt-4o-mini``, ``openai/gpt-4o``, ``claude-3-5-sonnet``, ...).

    Returns:
        The count, with whether it is exact and the encoding.
    """
    name, exact = _encoding_for(model)
    total = sum(count_chat_message(message, model) for message in messages)
    return TokenCount(total + _REPLY_PRIMER_TOKENS, exact, name)
