"""Token counting: exact for OpenAI models (shipped, hash-checked vocabularies), estimates else."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
import tiktoken
import tiktoken.load
import tiktoken.model
import tiktoken_ext.openai_public as openai_public

from llm_sessions import Session, TokenUsage
from llm_sessions.models import CountMethod
from llm_sessions.tokens import (
    ENCODINGS,
    VocabIntegrityError,
    count_chat_message,
    count_chat_messages,
    count_text,
    count_text_async,
    encoding_name_for_model,
    load_encoding,
)
from llm_sessions.tokens import vocab as vocab_module

SHIPPED = ("o200k_base", "cl100k_base")

SAMPLE_TEXTS = [
    "Hello, world!",
    "naïve café — Grüße, 日本語のテキスト, ελληνικά, русский, עברית 🎉👩‍👩‍👧 e\u0301",
    "def square(x: int) -> int:\n    return x ** 2  # squared\n\tif x != 0: pass\r\n}}",
    "<|endoftext|> looks special, <|fim_prefix|><|endofprompt|> too",
    "   leading and trailing spaces   \n\n\n  \t ",
    "I'm sure you'LL see they've 1234567890 3.14159 and 1,000,000",
    "https://example.com/path?q=1&x=%20 user@example.org /usr/bin/env",
]


def _data_dir() -> Path:
    return Path(str(resources.files("llm_sessions.tokens").joinpath("data")))


def _shipped_bytes(name: str) -> bytes:
    return (_data_dir() / ENCODINGS[name].filename).read_bytes()


@pytest.fixture(scope="module")
def reference_encodings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """tiktoken's own encoding definitions, fed our shipped files instead of the network.

    ``read_file`` is replaced, ``read_file_cached`` is tiktoken's own, so tiktoken checks the
    shipped bytes against its ``expected_hash`` while building the reference.
    """
    cache = tmp_path_factory.mktemp("tiktoken-cache")
    served: list[str] = []

    def read_shipped(blobpath: str) -> bytes:
        filename = blobpath.rsplit("/", 1)[-1]
        served.append(filename)
        return (_data_dir() / filename).read_bytes()

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TIKTOKEN_CACHE_DIR", str(cache))
        mp.setattr(tiktoken.load, "read_file", read_shipped)
        references = {
            "o200k_base": tiktoken.Encoding(**openai_public.o200k_base()),
            "cl100k_base": tiktoken.Encoding(**openai_public.cl100k_base()),
        }
    assert sorted(served) == ["cl100k_base.tiktoken", "o200k_base.tiktoken"]
    yield references


def test_hello_world_is_four_tokens_for_gpt_4o_mini() -> None:
    assert count_text("Hello, world!", "gpt-4o-mini").tokens == 4
    assert count_text("Hello, world!", "gpt-4o-mini").exact is True


async def test_hello_world_async_paths_agree() -> None:
    assert (await count_text_async("Hello, world!", "gpt-4o-mini")).tokens == 4
    assert await TokenUsage.count_tokens("Hello, world!", "gpt-4o-mini") == 4
    assert await Session().count_message_tokens("Hello, world!", "gpt-4o-mini") == 4


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o", "o200k_base"),
        ("gpt-4o-mini", "o200k_base"),
        ("gpt-4.1", "o200k_base"),
        ("gpt-5", "o200k_base"),
        ("o1", "o200k_base"),
        ("o3-mini", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
    ],
)
def test_encoding_follows_tiktokens_table(model: str, encoding: str) -> None:
    assert tiktoken.model.encoding_name_for_model(model) == encoding
    assert encoding_name_for_model(model) == encoding
    assert count_text("Hello, world!", model).encoding == encoding


def test_provider_prefix_is_ignored() -> None:
    assert encoding_name_for_model("openai/gpt-4o-mini") == "o200k_base"


@pytest.mark.parametrize("model", ["claude-3-5-sonnet", "gemini-1.5-pro", "llama-3-70b", ""])
def test_non_openai_models_have_no_exact_encoding(model: str) -> None:
    assert encoding_name_for_model(model) is None
    assert count_text("Hello, world!", model).exact is False


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("text", SAMPLE_TEXTS)
def test_shipped_encoding_gives_tiktokens_token_ids(
    reference_encodings: dict[str, tiktoken.Encoding], name: str, text: str
) -> None:
    ours = load_encoding(name)
    reference = reference_encodings[name]
    assert ours.encode_ordinary(text) == reference.encode_ordinary(text)
    assert ours.encode(text, allowed_special="all") == reference.encode(text, allowed_special="all")
    assert ours.decode(ours.encode_ordinary(text)) == text


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_encoding_definition_matches_tiktokens(
    reference_encodings: dict[str, tiktoken.Encoding], name: str
) -> None:
    ours = load_encoding(name)
    reference = reference_encodings[name]
    assert ours._pat_str == reference._pat_str
    assert ours._special_tokens == reference._special_tokens
    assert ours.n_vocab == reference.n_vocab
    assert ours.max_token_value == reference.max_token_value


def test_special_token_text_is_counted_as_plain_text() -> None:
    # A user typing "<|endoftext|>" must not be counted (or crash) as the special token.
    text = "<|endoftext|>"
    assert count_text(text, "gpt-4o-mini").tokens == len(
        load_encoding("o200k_base").encode_ordinary(text)
    )
    assert count_text(text, "gpt-4o-mini").tokens > 1


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_files_match_the_hash_tiktoken_publishes(name: str) -> None:
    source = Path(openai_public.__file__).read_text()
    match = re.search(rf'/{name}\.tiktoken",\s*expected_hash="([0-9a-f]{{64}})"', source)
    assert match is not None, f"no expected_hash for {name} in {openai_public.__file__}"
    published = match.group(1)
    assert hashlib.sha256(_shipped_bytes(name)).hexdigest() == published
    assert ENCODINGS[name].sha256 == published


def test_a_damaged_vocabulary_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "tokens"
    shutil.copytree(_data_dir(), package / "data")
    damaged = package / "data" / "o200k_base.tiktoken"
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0x01
    damaged.write_bytes(bytes(data))

    real_files = resources.files

    def files(anchor: str) -> object:
        return package if anchor == "llm_sessions.tokens" else real_files(anchor)

    monkeypatch.setattr(vocab_module.resources, "files", files)
    monkeypatch.setattr(vocab_module, "_cache", {})

    with pytest.raises(VocabIntegrityError, match=r"o200k_base\.tiktoken") as info:
        load_encoding("o200k_base")
    assert ENCODINGS["o200k_base"].sha256 in str(info.value)
    assert hashlib.sha256(bytes(data)).hexdigest() in str(info.value)
    # Counting refuses too, every time: a damaged file is never cached or silently replaced.
    with pytest.raises(VocabIntegrityError):
        count_text("Hello, world!", "gpt-4o-mini")
    assert "o200k_base" not in vocab_module._cache
    # The undamaged copy next to it still loads (the check really reads the file it is given).
    assert load_encoding("cl100k_base").encode_ordinary("Hello, world!") == [
        9906,
        11,
        1917,
        0,
    ]


_OFFLINE_SCRIPT = """
import json, socket

def refuse(*args, **kwargs):
    raise OSError("network is unreachable in this test")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse

from llm_sessions.tokens import count_text
print(json.dumps([
    count_text("Hello, world!", "gpt-4o-mini").tokens,
    count_text("Hello, world!", "gpt-4").tokens,
    count_text("Hello, world!", "claude-3-5-sonnet").tokens,
]))
"""


def test_counting_works_with_the_network_unreachable(tmp_path: Path) -> None:
    cache = tmp_path / "empty-tiktoken-cache"
    cache.mkdir()
    dead = "http://127.0.0.1:9"
    env = {key: value for key, value in os.environ.items() if "proxy" not in key.lower()}
    env.update(
        TIKTOKEN_CACHE_DIR=str(cache),
        DATA_GYM_CACHE_DIR=str(cache),
        HTTP_PROXY=dead,
        HTTPS_PROXY=dead,
        ALL_PROXY=dead,
        http_proxy=dead,
        https_proxy=dead,
        all_proxy=dead,
    )
    result = subprocess.run(
        [sys.executable, "-c", _OFFLINE_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [4, 4, 4]
    assert list(cache.iterdir()) == []


async def test_non_openai_models_are_estimated_and_marked() -> None:
    usage = await TokenUsage.from_text("Hello, world!", "Hi", model="claude-3-5-sonnet")
    assert usage.count_method == "estimate"
    assert usage.count_method is CountMethod.ESTIMATE
    assert usage.is_estimate is True
    assert usage.prompt_tokens == 4
    assert usage.completion_tokens == 1


async def test_openai_models_are_counted_exactly() -> None:
    usage = await TokenUsage.from_text("Hello, world!", "hi", model="gpt-4o-mini")
    assert usage.count_method is CountMethod.TOKENIZER
    assert usage.is_estimate is False
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (4, 1, 5)


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-4", "claude-3-5-sonnet"])
async def test_none_and_empty_text_count_zero(model: str) -> None:
    assert await TokenUsage.count_tokens(None, model) == 0
    assert await TokenUsage.count_tokens("", model) == 0
    assert count_text(None, model).tokens == 0
    usage = await TokenUsage.from_text(None, "", model=model)
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (0, 0, 0)


def test_short_text_is_never_zero() -> None:
    # The originals' len/4 fallback counted "hi" as 0 tokens.
    assert count_text("hi", "gpt-4o-mini").tokens == 1
    assert count_text("hi", "claude-3-5-sonnet").tokens == 1


def test_long_text_is_counted_like_short_text() -> None:
    text = "The quick brown fox jumps over the lazy dog. " * 3000
    expected = len(load_encoding("o200k_base").encode_ordinary(text))
    assert count_text(text, "gpt-4o-mini").tokens == expected


async def test_long_text_async_matches_sync() -> None:
    text = "lorem ipsum dolor sit amet, " * 5000  # over the worker-thread threshold
    assert (await count_text_async(text, "gpt-4o")).tokens == count_text(text, "gpt-4o").tokens


def _per_cookbook(messages: list[dict[str, str]], model: str) -> int:
    # OpenAI cookbook "How to count tokens with tiktoken": 3 per message, 1 per name, 3 primer.
    total = 3
    for message in messages:
        total += 3
        for key, value in message.items():
            total += count_text(value, model).tokens
            if key == "name":
                total += 1
    return total


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-4"])
def test_chat_messages_add_the_per_message_overhead(model: str) -> None:
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "name": "example_user", "content": "Hello, world!"},
        {"role": "assistant", "content": "Hi! How can I help?"},
    ]
    counted = count_chat_messages(messages, model)
    content_only = sum(count_text(value, model).tokens for m in messages for value in m.values())
    assert counted.tokens == _per_cookbook(messages, model)
    assert counted.tokens == content_only + 3 * len(messages) + 1 + 3
    assert count_chat_messages([], model).tokens == 3


async def test_session_counts_a_chat_message_as_its_content() -> None:
    message = {"role": "user", "content": "Hello, world!"}
    assert await Session().count_message_tokens(message, "gpt-4o-mini") == 4
    assert count_chat_message(message, "gpt-4o-mini") == 3 + 1 + 4  # with the chat overhead


def test_every_model_in_tiktokens_table_maps_to_the_same_shipped_encoding() -> None:
    table = tiktoken.model.MODEL_TO_ENCODING
    assert table, "tiktoken's model table is empty"
    for model, encoding in table.items():
        expected = encoding if encoding in SHIPPED else None
        assert encoding_name_for_model(model) == expected, model


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o-2024-08-06", "o200k_base"),
        ("gpt-4o-mini-2024-07-18", "o200k_base"),
        ("gpt-4.1-nano", "o200k_base"),
        ("gpt-4-0613", "cl100k_base"),
        ("gpt-3.5-turbo-0125", "cl100k_base"),
        ("GPT-4o-Mini", "o200k_base"),
    ],
)
def test_dated_and_cased_model_names_use_their_familys_encoding(model: str, encoding: str) -> None:
    assert encoding_name_for_model(model) == encoding
