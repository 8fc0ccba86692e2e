"""The README's quick start, run as written (twice, as a user would) against a local
OpenAI-compatible server with scripted replies."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path

from fake_openai_server import FakeOpenAI, completion

README = Path(__file__).resolve().parents[2] / "README.md"


def _quick_start() -> str:
    section = README.read_text().split("## Quick start", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None
    return match.group(1)


_CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "weather", "arguments": '{"city": "Paris"}'},
}


async def _run(snippet: str, folder: Path, fake: FakeOpenAI) -> str:
    env = {**os.environ, "OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "test-key"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        snippet,
        cwd=folder,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode().strip()


async def test_the_quick_start_runs_and_resumes(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    snippet = _quick_start()
    fake_openai.reply(completion({"role": "assistant", "content": None, "tool_calls": [_CALL]}))
    fake_openai.reply(completion({"role": "assistant", "content": "21 °C in Paris."}))
    assert await _run(snippet, tmp_path, fake_openai) == "21 °C in Paris."

    first, second = fake_openai.requests
    assert first["tools"][0]["function"]["name"] == "weather"
    assert [m["role"] for m in second["messages"]] == ["system", "user", "assistant", "tool"]
    assert json.loads(second["messages"][3]["content"]) == {"city": "Paris", "temperature_c": 21}

    fake_openai.reply(completion({"role": "assistant", "content": "Still 21 °C."}))
    assert await _run(snippet, tmp_path, fake_openai) == "Still 21 °C."
    resumed = fake_openai.requests[2]["messages"]
    assert [m["role"] for m in resumed] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
    ]
    assert resumed[0]["content"] == "You are a terse weather bot."
    assert (tmp_path / "chat.db").exists()
