"""``WorkerThread``: a store's blocking calls run on one thread, in order, with their errors and
cancellation handed back to the caller."""

from __future__ import annotations

import asyncio
import threading

import pytest

from llm_sessions.storage import _worker_thread as worker_threads
from llm_sessions.storage.worker_thread import WorkerThread


async def test_calls_run_on_one_thread_in_the_order_given() -> None:
    worker = WorkerThread("test-worker")
    seen: list[tuple[int, str]] = []

    def record(n: int) -> int:
        seen.append((n, threading.current_thread().name))
        return n * 2

    try:
        results = await asyncio.gather(*(worker.run(record, n) for n in range(50)))
    finally:
        worker.stop()
    assert results == [n * 2 for n in range(50)]
    assert [n for n, _ in seen] == list(range(50))
    assert {name for _, name in seen} == {"test-worker"}
    assert threading.current_thread().name != "test-worker"


async def test_an_error_in_a_call_reaches_its_caller_and_the_thread_goes_on() -> None:
    worker = WorkerThread("test-worker")

    def fail() -> None:
        raise ValueError("the database is locked")

    try:
        with pytest.raises(ValueError, match="the database is locked"):
            await worker.run(fail)
        assert await worker.run(len, "abc") == 3
    finally:
        worker.stop()


async def test_a_call_cancelled_while_waiting_for_the_thread_never_runs() -> None:
    worker = WorkerThread("test-worker")
    release = threading.Event()
    ran: list[str] = []
    try:
        busy = asyncio.ensure_future(worker.run(release.wait))
        waiting = asyncio.ensure_future(worker.run(ran.append, "cancelled call"))
        await asyncio.sleep(0)  # both handed over; the first holds the thread
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        release.set()
        assert await busy is True
        await worker.run(ran.append, "next call")
    finally:
        release.set()
        worker.stop()
    assert ran == ["next call"]


async def test_a_stopped_worker_parks_its_thread_for_the_next_worker_to_take() -> None:
    first_worker = WorkerThread("test-worker")
    first = await first_worker.run(threading.current_thread)
    first_worker.stop()
    for _ in range(3000):  # the thread parks itself once it has read the stop
        if (first, first_worker._jobs) in worker_threads._parked:
            break
        await asyncio.sleep(0.01)
    second_worker = WorkerThread("next-worker")
    try:
        second = await second_worker.run(threading.current_thread)
        assert second is first and second.name == "next-worker"
        assert await second_worker.run(len, "abcd") == 4
    finally:
        second_worker.stop()


async def test_a_stopped_worker_ends_its_thread_when_enough_threads_are_parked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(worker_threads, "IDLE_THREADS", 0)
    worker = WorkerThread("test-worker")
    first = await worker.run(threading.current_thread)
    worker.stop()
    first.join(timeout=30)
    assert not first.is_alive()
    try:
        second = await worker.run(threading.current_thread)
        assert second is not first and second.is_alive()
    finally:
        worker.stop()
