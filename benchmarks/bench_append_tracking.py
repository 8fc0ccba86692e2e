"""What tracking in-place edits costs the append path.

One workload, three variants, each round in a fresh interpreter, alternating round by round so
that all see the same machine load:

- ``baseline``: the source of a baseline revision (by default the commit before the tracked
  containers were added), as it was before in-place edits were tracked;
- ``untracked``: this checkout with the containers switched off (``track`` returns its value:
  the values are still checked, edits are neither checked nor seen), which isolates the cost of
  tracking from every other change since the baseline;
- ``current``: this checkout as it is.

A round creates a session and appends ``--events`` events one at a time with
``add_event_and_save``, each carrying a message dict and a metadata dict with a nested list and
dict (the values the containers wrap). Its figures are the mean time per append by the wall
clock and in the process's CPU time (what tracking adds is CPU work, and CPU time is less
disturbed by other processes on a loaded machine). The table shows the median and the best of
``--rounds`` rounds and the ratios current / untracked and current / baseline.

    python benchmarks/bench_append_tracking.py --stores memory,sqlite,postgres --rounds 9

Target: current / untracked under 1.10 on every store. Not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from io import BytesIO
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TRACKING_MODULE = "src/llm_sessions/models/tracked.py"
CLOCKS = ("wall", "cpu")
POSTGRES_URL = os.environ.get(
    "LLM_SESSIONS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def default_baseline() -> str:
    """The commit before the one that added the tracked containers."""
    added = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", TRACKING_MODULE],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not added:
        raise SystemExit(f"no commit adds {TRACKING_MODULE}: pass --baseline")
    return f"{added[-1]}^"


def export_source(revision: str, target: Path) -> Path:
    """Unpack ``src`` of ``revision`` into ``target``; returns the directory to import from."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision, "src"], cwd=REPO, capture_output=True
    )
    if archive.returncode != 0:
        raise SystemExit(archive.stderr.decode())
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")
    return target / "src"


async def append_round(store_name: str, events: int, workdir: str) -> dict[str, float]:
    """Seconds per ``add_event_and_save`` over ``events`` appends to one new session, by the
    wall clock and in this process's CPU time."""
    from llm_sessions.models import Session, SessionEvent
    from llm_sessions.storage import open_store

    url = {
        "memory": "memory://",
        "file": f"file://{workdir}/files",
        "sqlite": f"sqlite:///{workdir}/sessions.db",
        "postgres": f"{POSTGRES_URL}?schema=bench_{uuid.uuid4().hex[:12]}",
    }[store_name]
    store = open_store(url)
    session: Session[Any] = await Session.create(store=store)
    start, start_cpu = time.perf_counter(), time.process_time()
    for n in range(events):
        event: SessionEvent[Any] = SessionEvent(
            message={"role": "user", "content": f"message {n} " + "x" * 200},
            metadata={"turn": n, "tags": ["a", "b"], "source": {"kind": "bench", "n": n}},
        )
        await session.add_event_and_save(event)
    wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    if store_name == "postgres":
        await store.drop_all()  # type: ignore[attr-defined]
    await store.close()
    return {"wall": wall / events, "cpu": cpu / events}


def switch_tracking_off() -> None:
    """Make every module that wraps values in tracked containers keep them as they are."""
    from llm_sessions.models import session, session_event, session_metadata, session_run

    def untracked(value: Any, *args: Any, **kwargs: Any) -> Any:
        return value

    for module in (session, session_event, session_metadata, session_run):
        assert hasattr(module, "track"), module
        module.track = untracked  # type: ignore[attr-defined]


def run_worker(source: Path, store_name: str, events: int, tracking: bool) -> dict[str, float]:
    """One round in a fresh interpreter importing llm_sessions from ``source``."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    command = [sys.executable, __file__, "--worker", store_name, "--events", str(events)]
    if not tracking:
        command.append("--untracked")
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    result = json.loads(out)
    if not result["module"].startswith(str(source)):
        raise SystemExit(f"worker imported {result['module']}, not from {source}")
    return {clock: float(result[clock]) for clock in CLOCKS}


def worker(store_name: str, events: int, tracking: bool) -> None:
    import llm_sessions

    if not tracking:
        switch_tracking_off()

    with tempfile.TemporaryDirectory() as workdir:
        seconds = asyncio.run(append_round(store_name, events, workdir))
    print(json.dumps({**seconds, "module": llm_sessions.__file__}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--stores", default="memory,sqlite", help="of memory, file, sqlite, postgres"
    )
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--baseline", help="a git revision (default: before tracked containers)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--untracked", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.events, tracking=not args.untracked)
        return

    sys.path.insert(0, str(Path(__file__).parent))
    from _common import machine, table

    baseline = args.baseline or default_baseline()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        variants = {  # name: (source, tracking)
            "baseline": (export_source(baseline, Path(tmp) / "baseline"), True),
            "untracked": (REPO / "src", False),
            "current": (REPO / "src", True),
        }
        for store_name in args.stores.split(","):
            samples: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
            for _ in range(args.rounds):
                for name, (source, tracking) in variants.items():
                    samples[name].append(run_worker(source, store_name, args.events, tracking))
            for clock in CLOCKS:
                for label, pick in (("median", statistics.median), ("best", min)):
                    base, untracked, current = (
                        pick(round_[clock] for round_ in samples[n]) * 1e6 for n in variants
                    )
                    rows.append(
                        (
                            f"{store_name} {clock} ({label})",
                            round(base, 1),
                            round(untracked, 1),
                            round(current, 1),
                            round(current / untracked, 3),
                            round(current / base, 3),
                        )
                    )
    print(machine())
    print(f"baseline {baseline}; {args.events} appends per round, {args.rounds} rounds")
    header = ["store", "baseline µs", "untracked µs", "current µs", "cur/untracked", "cur/base"]
    print(table("append path", header, rows))


if __name__ == "__main__":
    main()
