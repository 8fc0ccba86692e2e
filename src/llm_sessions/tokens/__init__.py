"""Exact token counting (tiktoken with shipped, hash-checked vocabularies) and real prices."""

from .counter import (
    ESTIMATE_ENCODING,
    TokenCount,
    count_chat_message,
    count_chat_messages,
    count_text,
    count_text_async,
    encoding_name_for_model,
    truncate_text,
)
from .pricing import ModelPrice, cost_usd, price_for_model
from .vocab import ENCODINGS, VocabIntegrityError, load_encoding

__all__ = [
    "ENCODINGS",
    "ESTIMATE_ENCODING",
    "ModelPrice",
    "TokenCount",
    "VocabIntegrityError",
    "cost_usd",
    "count_chat_message",
    "count_chat_messages",
    "count_text",
    "count_text_async",
    "encoding_name_for_model",
    "load_encoding",
    "price_for_model",
    "truncate_text",
]
