"""Long texts are counted in pieces, in the bounded counting pool, to the same count."""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest

from llm_sessions.tokens import count_text, count_text_async, load_encoding
from llm_sessions.tokens import counter as counter_module
from llm_sessions.tokens.pool import COUNTING_THREADS

ALPHABET = "abcdefXYZ0123456789  \n\t.,;:'\"!?-_()[]{}éüß中文字😀"


class _Recorder:
    """An encoding that notes how long each text it encodes is, and in which thread."""

    def __init__(self, encoding: Any) -> None:
        self.encoding = encoding
        self.lengths: list[int] = []
        self.threads: set[str] = set()

    def encode_ordinary(self, text: str) -> list[int]:
        self.lengths.append(len(text))
        self.threads.add(threading.current_thread().name)
        return list(self.encoding.encode_ordinary(text))


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> _Recorder:
    recording = _Recorder(load_encoding("o200k_base"))
    monkeypatch.setattr(counter_module, "load_encoding", lambda name: recording)
    return recording


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4"])
def test_pieces_count_what_the_whole_text_counts(seed: int, model: str) -> None:
    chooser = random.Random(seed)
    text = "".join(chooser.choice(ALPHABET) for _ in range(150_000))
    name = counter_module._encoding_for(model)[0]
    assert count_text(text, model).tokens == len(load_encoding(name).encode_ordinary(text))


def test_a_long_text_is_never_encoded_at_once(recorder: _Recorder) -> None:
    text = " ".join(f"w{n % 5000}" for n in range(400_000))
    count_text(text, "gpt-4o")
    assert len(recorder.lengths) > 10
    assert max(recorder.lengths) < 70_000


async def test_a_long_text_is_counted_in_the_counting_pool(recorder: _Recorder) -> None:
    await count_text_async("word " * 50_000, "gpt-4o")
    assert recorder.threads
    assert all(name.startswith("llm-sessions-count") for name in recorder.threads)
    assert COUNTING_THREADS >= 1
