"""Durable stores refuse an event larger than ``max_event_bytes``, writing nothing."""

from __future__ import annotations

from typing import Any

import pytest
from store_cases import StoreCase

from llm_sessions import Session, SessionEvent
from llm_sessions.exceptions import InvalidInputError
from llm_sessions.storage.event_log import DEFAULT_MAX_EVENT_BYTES

LIMIT = 2_000


async def test_an_event_over_the_limit_is_refused_and_nothing_is_written(
    durable_case: StoreCase,
) -> None:
    store = durable_case.open(max_event_bytes=LIMIT)
    session: Session[Any] = await Session.create(store=store)
    await session.add_event_and_save(SessionEvent(message="before"))
    too_big = SessionEvent(message="é" * LIMIT)  # 2 bytes a character in UTF-8

    with pytest.raises(InvalidInputError) as refused:
        await session.add_event_and_save(too_big)

    message = str(refused.value)
    size = len(too_big.model_dump_json().encode())
    assert too_big.id in message
    assert f"{size:,} bytes" in message and f"the limit is {LIMIT:,} bytes" in message
    assert [e.message for e in session.events] == ["before"]  # taken back out
    await session.add_event_and_save(SessionEvent(message="after"))  # still usable
    loaded = await durable_case.open().get(session.id)
    assert loaded is not None
    assert [e.message for e in loaded.events] == ["before", "after"]


async def test_an_edit_that_makes_an_event_too_large_is_refused(durable_case: StoreCase) -> None:
    store = durable_case.open(max_event_bytes=LIMIT)
    session: Session[Any] = await Session.create(store=store)
    await session.add_event_and_save(SessionEvent(message="small"))
    await session.events[0].set_metadata("blob", "x" * (2 * LIMIT))

    with pytest.raises(InvalidInputError, match="the limit is 2,000 bytes"):
        await store.save(session)

    loaded = await durable_case.open().get(session.id)
    assert loaded is not None and loaded.events[0].metadata == {}


async def test_no_limit_accepts_large_events(durable_case: StoreCase) -> None:
    store = durable_case.open(max_event_bytes=None)
    session: Session[Any] = await Session.create(store=store)
    await session.add_event_and_save(SessionEvent(message="y" * (3 * LIMIT)))
    loaded = await durable_case.open().get(session.id)
    assert loaded is not None and loaded.events[0].message == "y" * (3 * LIMIT)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10"])
async def test_a_bad_limit_is_refused_naming_it(durable_case: StoreCase, bad: object) -> None:
    with pytest.raises(InvalidInputError, match="max_event_bytes"):
        durable_case.open(max_event_bytes=bad)


def test_the_default_limit_is_four_mebibytes() -> None:
    assert DEFAULT_MAX_EVENT_BYTES == 4 * 1024 * 1024
