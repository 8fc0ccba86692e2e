"""A chat turn in a session that is also a parent (of sub-agents, runs...), on every store.

    python benchmarks/bench_parent_turn.py [--children 2000] [--turns 300] [--window 100]
                                           [--no-redis] [--no-postgres]

The loop of ``bench_chat_loop.py`` (``user_says``, ``get_messages_for_llm(max_tokens=4000)``,
``ai_responds``) in a plain session and in one holding ``--children`` child ids and a tenth as
many state keys. Each turn refreshes the session from its store, so it reads the header too.
Printed: the median turn over the last ``--window`` turns of each, and their ratio (1.0 is a
turn that costs the same whatever the header holds).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import machine, table
from bench_chat_loop import ANSWER, QUESTION, Turn, loop_parser, our_stores, run

from llm_sessions import SessionManager
from llm_sessions.storage import SessionStore, open_store
from llm_sessions.tokens import count_text


async def parent_turn(store: SessionStore, children: int) -> Turn:
    """The chat turn in a new session given ``children`` child ids and children/10 state keys."""
    manager = SessionManager(store=store)
    session = await manager.get_session()
    session.child_ids.extend(f"child-{n:05d}-{manager.session_id}" for n in range(children))
    session.state.update({f"key-{n}": {"step": n, "note": "x" * 40} for n in range(children // 10)})
    await store.save(session)

    async def turn(i: int) -> None:
        await manager.user_says(QUESTION.format(i=i))
        await manager.get_messages_for_llm(max_tokens=4000)
        await manager.ai_responds(ANSWER.format(i=i, a=3.14159 * i * i), model="gpt-4o-mini")

    return turn


async def main() -> None:
    parser = loop_parser(__doc__ or "", 300, 100)
    parser.add_argument("--children", type=int, default=2000)
    args = parser.parse_args()
    window = min(args.window, max(1, args.turns // 2))
    count_text("warm up", "gpt-4o-mini")
    print(f"machine: {machine()}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, url in our_stores(tmp, args):
            store = open_store(url)
            try:
                late: list[float] = []
                for children in (0, args.children):
                    turn = await parent_turn(store, children)
                    _, late_turn, *_ = await run(turn, args.turns, window)
                    assert late_turn is not None
                    late.append(late_turn)
                rows.append([name, *late, late[1] / late[0]])
            finally:
                drop = getattr(store, "drop_all", None)
                if drop is not None:
                    await drop()
                await store.close()
    print(
        table(
            f"median chat turn (ms) over the last {window} of {args.turns} turns, in a session "
            f"without and with {args.children:,} children and {args.children // 10:,} state keys",
            ["store", "plain", "parent", "parent/plain"],
            rows,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
