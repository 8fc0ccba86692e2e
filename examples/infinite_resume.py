"""An infinite conversation: segments of two turns each, every new segment opening with a
summary of the earlier ones; a second process resumes it from SQLite by the id of any segment
and sees the whole history.

    python examples/infinite_resume.py
"""

# expect: first process: 3 segments
# expect: second process: resumed at segment 3 of 3
# expect: second process: 4 segments, 7 user messages

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

from _model import MODEL, mode, say

from llm_sessions import SessionManager
from llm_sessions.storage import open_store

SETTINGS = {"infinite_context": True, "max_turns_per_segment": 2, "model": MODEL}


async def turn(sm: SessionManager, question: str) -> None:
    await sm.user_says(question)
    answer, usage = await say(await sm.get_messages_for_llm(), f"Noted: {question.lower()}")
    await sm.ai_responds(answer, model=MODEL, provider="openai", usage=usage)


async def first_process(store_url: str) -> str:
    async with open_store(store_url) as store:
        sm = SessionManager(store=store, **SETTINGS)
        for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
            await turn(sm, f"On {day} I ran {len(day)} km.")
        chain = await sm.get_session_chain()
        print(f"first process: {len(chain)} segments, {chain[0]} ... {chain[-1]}", flush=True)
        return chain[0]  # any segment's id will do


async def second_process(store_url: str, session_id: str) -> None:
    async with open_store(store_url) as store:
        sm = SessionManager(session_id, store=store, **SETTINGS)
        chain = await sm.get_session_chain()
        print(f"second process: resumed at segment {len(chain)} of {len(chain)}")
        for question in ("On Saturday I rested.", "How far did I run this week?"):
            await turn(sm, question)
        stats = await sm.get_stats()
        print(
            f"second process: {stats['session_segments']} segments, "
            f"{stats['user_messages']} user messages, {stats['total_tokens']} tokens"
        )


if __name__ == "__main__":
    if len(sys.argv) == 3:  # the second process
        asyncio.run(second_process(sys.argv[1], sys.argv[2]))
        sys.exit()
    print(mode())
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'conversation.db'}"
        root = asyncio.run(first_process(url))
        subprocess.run([sys.executable, __file__, url, root], check=True)
