"""One upper bound on times to live and one error for bad limits, on every store."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from llm_sessions.exceptions import InvalidInputError
from llm_sessions.models import Session, SessionEvent
from llm_sessions.validation import MAX_SECONDS

if TYPE_CHECKING:
    from store_cases import StoreCase


async def test_a_ttl_beyond_the_bound_is_refused_everywhere(durable_case: StoreCase) -> None:
    with pytest.raises(InvalidInputError, match="expiration_seconds") as caught:
        durable_case.open(expiration_seconds=MAX_SECONDS * 10)
    assert f"{MAX_SECONDS:,}" in str(caught.value)
    store = durable_case.open()
    session: Session[Any] = Session(id="kept", state={"n": 1})
    await store.save(session)

    with pytest.raises(InvalidInputError, match="seconds"):
        await store.set_expiration("kept", 1e300)

    found = await durable_case.open().get("kept")
    assert found is not None and found.state == {"n": 1}


async def test_the_longest_ttl_works_everywhere(durable_case: StoreCase) -> None:
    store = durable_case.open(expiration_seconds=MAX_SECONDS)
    session: Session[Any] = Session(id="long-lived")
    await session.add_event(SessionEvent(message="hello"))
    await store.save(session)
    assert await store.set_expiration("long-lived", MAX_SECONDS)

    found = await durable_case.open().get("long-lived")
    assert found is not None and [e.message for e in found.events] == ["hello"]


async def test_list_sessions_refuses_a_prefix_that_is_not_text(store_case: StoreCase) -> None:
    store = store_case.open()
    await store.save(Session(id="one"))
    with pytest.raises(InvalidInputError, match="prefix"):
        await store.list_sessions(None)  # type: ignore[arg-type]
    assert await store.list_sessions() == ["one"]
