"""The official OpenAI BPE vocabularies, shipped with the package and checked before use.

``o200k_base`` and ``cl100k_base`` are byte-identical copies of the files OpenAI publishes; each is
verified against the SHA-256 that tiktoken publishes for it before an encoding is built, so
counting never needs the network and never runs on a damaged file.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from dataclasses import dataclass, field
from importlib import resources

import tiktoken

__all__ = ["ENCODINGS", "EncodingSpec", "VocabIntegrityError", "is_loaded", "load_encoding"]


class VocabIntegrityError(RuntimeError):
    """A shipped vocabulary file does not match its published SHA-256."""


@dataclass(frozen=True)
class EncodingSpec:
    """Everything needed to build one tiktoken encoding offline."""

    name: str
    filename: str
    sha256: str
    pat_str: str
    special_tokens: dict[str, int] = field(default_factory=dict)


_O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
_CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)

ENCODINGS: dict[str, EncodingSpec] = {
    "o200k_base": EncodingSpec(
        name="o200k_base",
        filename="o200k_base.tiktoken",
        sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        pat_str=_O200K_PATTERN,
        special_tokens={"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
    ),
    "cl100k_base": EncodingSpec(
        name="cl100k_base",
        filename="cl100k_base.tiktoken",
        sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        pat_str=_CL100K_PATTERN,
        special_tokens={
            "<|endoftext|>": 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
    ),
}

_cache: dict[str, tiktoken.Encoding] = {}
_lock = threading.Lock()


def read_vocab(spec: EncodingSpec) -> bytes:
    """Return the shipped vocabulary file's bytes after checking its SHA-256."""
    package = resources.files(__name__.rpartition(".")[0])
    data = package.joinpath("data").joinpath(spec.filename).read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != spec.sha256:
        raise VocabIntegrityError(
            f"{spec.filename} has SHA-256 {actual}; the published hash is {spec.sha256}. "
            "Reinstall llm-sessions: the shipped vocabulary file is damaged."
        )
    return data


def _parse_ranks(data: bytes) -> dict[bytes, int]:
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def is_loaded(name: str) -> bool:
    """Whether the encoding ``name`` is already built (so using it will not block)."""
    return name in _cache


def load_encoding(name: str) -> tiktoken.Encoding:
    """Return the tiktoken encoding ``name`` built from the shipped, hash-checked vocabulary.

    Args:
        name: ``o200k_base`` or ``cl100k_base`` (the keys of ``ENCODINGS``).

    Returns:
        The encoding, built once and cached.

    Raises:
        KeyError: ``name`` is not a shipped encoding.
        VocabIntegrityError: The shipped file does not match its published SHA-256.
    """
    encoding = _cache.get(name)
    if encoding is not None:
        return encoding
    spec = ENCODINGS[name]
    with _lock:
        encoding = _cache.get(name)
        if encoding is None:
            encoding = tiktoken.Encoding(
                name=spec.name,
                pat_str=spec.pat_str,
                mergeable_ranks=_parse_ranks(read_vocab(spec)),
                special_tokens=spec.special_tokens,
            )
            _cache[name] = encoding
    return encoding
