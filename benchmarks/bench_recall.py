"""What recall costs a prompt: ``get_messages_for_llm`` with ``recall=None`` vs
``Recall(k=5, max_tokens=500)``, on the stores that answer a search from an index (SQLite,
PostgreSQL) and one that reads the user's events (memory).

One user has S earlier sessions of E events each (texts from a 2,000-word vocabulary with a
Zipf-like spread); the current session holds T turns. Each sample builds the prompt of the
current session (``max_tokens=2000``) after a new user message; recall adds one search of the
user's sessions. Prints the median in ms of each side and their difference.

    python benchmarks/bench_recall.py --stores memory,sqlite,postgres --sessions 200 --events 20

Not part of the test run. PostgreSQL uses a schema of its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _common import machine, median_ms, table

from llm_sessions import Recall, SessionManager
from llm_sessions.models import EventSource, Session, SessionEvent
from llm_sessions.storage import SessionStore, open_store

POSTGRES_URL = os.environ.get(
    "LLM_SESSIONS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
VOCABULARY = 2_000
WORDS = [f"w{n}x" for n in range(VOCABULARY)]
CUMULATIVE = list(itertools.accumulate(1 / (rank + 1) for rank in range(VOCABULARY)))
USER = "bench-user"


def text(rng: random.Random, words: int = 12) -> str:
    return " ".join(rng.choices(WORDS, cum_weights=CUMULATIVE, k=words))


async def fill(store: SessionStore, sessions: int, events: int, rng: random.Random) -> None:
    for _ in range(sessions):
        session: Session[Any] = Session()
        session.metadata.user_id = USER
        for n in range(events):
            source = EventSource.USER if n % 2 == 0 else EventSource.LLM
            await session.add_event(SessionEvent(message=text(rng), source=source))
        await store.save(session)


async def side(store: SessionStore, recall: Recall | None, turns: int, repeat: int) -> float:
    rng = random.Random(7)
    sm = SessionManager(store=store, user_id=USER, system_prompt="You help.", recall=recall)
    for _ in range(turns):
        await sm.user_says(text(rng))
        await sm.ai_responds(text(rng, 30), model="gpt-4o-mini")
    await sm.user_says(text(rng))

    async def prompt() -> None:
        await sm.get_messages_for_llm(max_tokens=2000)

    await prompt()  # warm: tokenizer, caches
    return await median_ms(prompt, repeat)


def url_for(kind: str, folder: Path) -> str:
    if kind == "memory":
        return "memory://"
    if kind == "sqlite":
        return f"sqlite:///{folder / 'recall.db'}"
    return f"{POSTGRES_URL}?schema=bench_recall_{uuid.uuid4().hex[:10]}"


async def measure(kind: str, args: argparse.Namespace, folder: Path) -> list[Any]:
    store = open_store(url_for(kind, folder))
    try:
        await fill(store, args.sessions, args.events, random.Random(1))
        off = await side(store, None, args.turns, args.repeat)
        on = await side(store, Recall(k=5, max_tokens=500), args.turns, args.repeat)
    finally:
        if kind == "postgres":
            await store.drop_all()  # type: ignore[attr-defined]
        await store.close()
    return [kind, off, on, on - off]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", default="memory,sqlite,postgres")
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for kind in args.stores.split(","):
            rows.append(await measure(kind, args, Path(folder)))
    title = (
        f"get_messages_for_llm, ms (median of {args.repeat}): {args.sessions} earlier "
        f"sessions x {args.events} events of one user, {args.turns} turns now; {machine()}"
    )
    print(table(title, ["store", "recall off", "recall on", "difference"], rows))


if __name__ == "__main__":
    asyncio.run(main())
