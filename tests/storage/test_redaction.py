"""Redaction on every store: secrets never reach the store, and the event notes what was taken."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from llm_sessions.exceptions import InvalidInputError
from llm_sessions.models import EventSource
from llm_sessions.models.session import Session
from llm_sessions.models.session_event import SessionEvent
from llm_sessions.storage import SessionStore, open_store
from llm_sessions.storage.redaction import REDACTED_KEY, redact_pii

if TYPE_CHECKING:
    from conftest import StoreCase

SECRETS = {
    "email": "jane.doe@example.com",
    "phone": "+1 415-555-0132",
    "card": "4111 1111 1111 1111",
    "api_key": "sk-proj-abcdefghijklmnop1234",
}


def _fresh(case: StoreCase, writer: SessionStore) -> SessionStore:
    return case.open() if case.durable else writer


async def test_the_ready_redactor_takes_out_every_kind_on_every_store(
    store_case: StoreCase,
) -> None:
    store = store_case.open(redact=redact_pii)
    session: Session[Any] = await Session.create(store=store, id="pii")
    text = "Reach me at {email} or {phone}; card {card}; key {api_key}.".format(**SECRETS)
    message = {"content": text, "parts": [SECRETS["email"], 42]}
    await session.add_event_and_save(SessionEvent(message=message, source=EventSource.USER))
    await session.add_event_and_save(SessionEvent(message="nothing secret on 2024-05-01"))

    loaded = await _fresh(store_case, store).get("pii")
    assert loaded is not None
    stored_text = repr([event.message for event in loaded.events])
    assert not [value for value in SECRETS.values() if value in stored_text]
    first, second = loaded.events
    assert first.message["content"] == (
        "Reach me at [REDACTED:email] or [REDACTED:phone]; card [REDACTED:card]; "
        "key [REDACTED:api_key]."
    )
    assert first.message["parts"] == ["[REDACTED:email]", 42]
    assert first.metadata[REDACTED_KEY] == {"email": 2, "phone": 1, "card": 1, "api_key": 1}
    assert second.message == "nothing secret on 2024-05-01"
    assert REDACTED_KEY not in second.metadata


async def test_a_custom_redactor_returning_text_is_noted(store_case: StoreCase) -> None:
    store = store_case.open(redact=lambda text: text.replace("Rex", "<name>"))
    session: Session[Any] = await Session.create(store=store, id="custom")
    await session.add_event_and_save(SessionEvent(message="my dog Rex"))
    loaded = await _fresh(store_case, store).get("custom")
    assert loaded is not None
    assert loaded.events[0].message == "my dog <name>"
    assert loaded.events[0].metadata[REDACTED_KEY] == {"custom": 1}


def test_a_redactor_that_is_not_a_function_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="redact"):
        open_store("memory://", redact="emails")
