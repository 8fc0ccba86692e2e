"""Conversations as apps have them now: what attachments, streamed replies and staged compaction
cost, each figure beside its target.

Three sections (``--sections``, all by default), each described in its module:

- ``attachments`` (``_content_attachments.py``): resuming a session of 200 turns with 75
  images of 500 KB loads at most 1% of the bytes of the same session with the images inline
  (durable stores only);
- ``streaming`` (``_content_streaming.py``): a streamed reply of 2,000 deltas costs at most
  1.5x the same text written as one event, plus one checkpoint write per checkpoint taken (at
  most one per ``checkpoint_ms``): ``allowed = 1.5 x one event + the time of the reply's
  checkpoint saves``, from the medians over the rounds;
- ``compaction`` (``_content_compaction.py``): a 2,000-turn agent session keeps every prompt
  under budget, building it in at most 2x the time it takes without compaction (memory store).

    .venv/bin/python benchmarks/bench_content.py
    .venv/bin/python benchmarks/bench_content.py --sections streaming --stores memory,postgres

Times are wall clock on whatever else the machine is doing; byte counts are exact.
Not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio

import _content_attachments
import _content_compaction
import _content_streaming
from _common import machine
from _content_stores import KINDS

SECTIONS = ("attachments", "streaming", "compaction")


def _names(value: str, allowed: tuple[str, ...], what: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in allowed]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"{what} {', '.join(unknown) or value!r}: pick from {', '.join(allowed)}"
        )
    return names


def _positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"{value}: must be > 0")
    return number


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--sections",
        type=lambda v: _names(v, SECTIONS, "section"),
        default=list(SECTIONS),
        help=f"comma-separated, of {','.join(SECTIONS)}",
    )
    parser.add_argument(
        "--stores",
        type=lambda v: _names(v, KINDS, "store"),
        default=list(KINDS),
        help=f"comma-separated, of {','.join(KINDS)} (attachments and streaming)",
    )
    attachments = parser.add_argument_group("attachments")
    attachments.add_argument("--turns", type=int, default=200)
    attachments.add_argument("--images", type=int, default=75)
    attachments.add_argument("--image-kb", type=int, default=500)
    streaming = parser.add_argument_group("streaming")
    streaming.add_argument("--deltas", type=int, default=2000)
    streaming.add_argument("--rounds", type=int, default=15)
    streaming.add_argument("--checkpoint-ms", type=_positive, default=250.0)
    compaction = parser.add_argument_group("compaction")
    compaction.add_argument("--agent-turns", type=int, default=2000)
    compaction.add_argument("--budget", type=int, default=16_000)
    compaction.add_argument("--summarize-at", type=int, default=8_000)
    compaction.add_argument("--keep", type=int, default=3_000)
    return parser.parse_args()


async def main() -> None:
    args = parse_args()
    print(machine())
    for section in args.sections:
        print()
        if section == "attachments":
            print(await _content_attachments.run(args.stores, args))
        elif section == "streaming":
            print(await _content_streaming.run(args.stores, args))
        else:
            print(await _content_compaction.run(args))


if __name__ == "__main__":
    asyncio.run(main())
