"""What keeping summary rows adds to a SQLite append, counted in instructions.

Wall and CPU times of one append (``bench_summary_cost.py``, ``bench_stores.py``) move by 10%
and more from run to run on a shared machine; the instructions the process runs do not. This
runs the same appends under ``valgrind --tool=callgrind`` (no results file), twice per mode:
200 appends, then 200 + ``--appends``. The difference, divided by ``--appends``, is the cost of
one append, start-up and warm-up left out. Modes:

- ``with``: the store as shipped (each save adds its delta to the session's summary columns
  and model rows);
- ``without``: summary rows off (``_summary_rows = False``) and the indexes that list them
  dropped: the write path as it was before summaries.

    python benchmarks/bench_append_instructions.py --appends 1000
    PYTHONPATH=OTHER/src python benchmarks/bench_append_instructions.py   # another checkout's code

Instructions leave out the kernel's time (a write per page of the log, the fsync), which a page
more or less per append changes too: ``bench_summary_cost.py --sqlite-sync full`` measures
that. Needs valgrind (Debian's package). Not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import machine, table
from bench_stores import make_events

WARM_UP = 200


async def append(mode: str, count: int) -> None:
    """In the child: ``WARM_UP + count`` appends to one session of a fresh store."""
    from bench_summary_cost import without_summaries

    from llm_sessions.models import Session
    from llm_sessions.storage import open_store

    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{folder}/appends.db")
        if mode == "without":
            await without_summaries(store)
        session: Session[object] = Session(id="appends")
        await store.save(session)
        for event in make_events(WARM_UP + count):
            await session.add_event_and_save(event)
        await store.close()


def instructions(mode: str, count: int) -> int:
    """Instructions of a child process that makes ``WARM_UP + count`` appends in ``mode``."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    command += [sys.executable, __file__, "--child", mode, str(count)]
    # A fixed hash seed: dicts and sets then lay out alike in every run.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"valgrind printed no count:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=1000)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(append(args.child[0], int(args.child[1])))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is needed: apt-get install -y valgrind")
    runs = [(mode, count) for mode in ("with", "without") for count in (0, args.appends)]
    print(f"counting {len(runs)} runs under valgrind ...", file=sys.stderr)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        counts = dict(zip(runs, pool.map(lambda run: instructions(*run), runs), strict=True))
    per_append = {
        mode: (counts[mode, args.appends] - counts[mode, 0]) / args.appends
        for mode in ("with", "without")
    }
    rows = [
        ["sqlite", args.appends, per_append["with"], per_append["without"],
         per_append["with"] / per_append["without"]],
    ]  # fmt: skip
    title = f"bench_append_instructions ({machine()})"
    header = ["store", "appends", "with: instructions", "without", "ratio"]
    print(table(title, header, rows))


if __name__ == "__main__":
    main()
