"""Redaction on every store: secrets never reach the store, and the event notes what was taken."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from llm_sessions import SessionManager
from llm_sessions.exceptions import InvalidInputError
from llm_sessions.models import EventSource
from llm_sessions.models.session import Session
from llm_sessions.models.session_event import SessionEvent
from llm_sessions.storage import SessionStore, open_store
from llm_sessions.storage.redaction import REDACTED_KEY, redact_pii
from llm_sessions.tokens import count_text

if TYPE_CHECKING:
    from store_cases import StoreCase

MODEL = "gpt-4o-mini"
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


async def test_tokens_are_counted_from_the_redacted_text_on_every_store(
    store_case: StoreCase,
) -> None:
    store = store_case.open(redact=redact_pii)
    manager = SessionManager(store=store)
    said = "Please write to jane.doe@example.com about the invoice, and to bob@example.org too."
    redacted = "Please write to [REDACTED:email] about the invoice, and to [REDACTED:email] too."
    session_id = await manager.user_says(said)
    await manager.ai_responds(f"I wrote to {SECRETS['email']}.", model=MODEL)

    # An event that reaches the session without add_event is redacted and counted at save.
    session = await store.get(session_id)
    assert session is not None
    late = await SessionEvent.create_with_tokens(said, said, model=MODEL)
    session.events.append(late)
    await store.save(session)

    loaded = await _fresh(store_case, store).get(session_id)
    assert loaded is not None
    user, reply, stored_late = loaded.events
    assert user.message == redacted and stored_late.message == redacted
    assert SECRETS["email"] not in repr(loaded.model_dump())
    redacted_count = count_text(redacted, MODEL).tokens
    assert redacted_count != count_text(said, MODEL).tokens  # a count of the original fails
    assert user.token_usage is not None and user.token_usage.prompt_tokens == redacted_count
    assert stored_late.token_usage is not None
    assert stored_late.token_usage.prompt_tokens == redacted_count
    assert reply.token_usage is not None
    assert (
        reply.token_usage.completion_tokens
        == count_text("I wrote to [REDACTED:email].", MODEL).tokens
    )
    assert user.metadata[REDACTED_KEY] == {"email": 2}
    assert reply.metadata[REDACTED_KEY] == {"email": 1}

    # The session's totals take the redacted count as the event is added, before any save.
    counted: Session[Any] = await Session.create(store=store, id="counted")
    await counted.add_event(await SessionEvent.create_with_tokens(said, said, model=MODEL))
    assert counted.total_tokens == redacted_count


async def test_an_event_is_redacted_once_and_reported_counts_are_kept(
    store_case: StoreCase,
) -> None:
    calls: list[str] = []

    def mark_names(text: str) -> str:
        calls.append(text)
        return text.replace("Rex", "Rex [name]")  # not idempotent: a second pass would show

    store = store_case.open(redact=mark_names)
    session: Session[Any] = await Session.create(store=store, id="once")
    event = await SessionEvent.create_with_tokens(
        "my dog Rex",
        None,
        "my dog Rex",
        model=MODEL,
        usage={"prompt_tokens": 3, "completion_tokens": 7},
    )
    await session.add_event_and_save(event)
    await store.save(session)
    loaded = await _fresh(store_case, store).get("once")
    assert loaded is not None
    assert loaded.events[0].message == "my dog Rex [name]"
    assert loaded.events[0].metadata[REDACTED_KEY] == {"custom": 1}
    assert loaded.events[0].token_usage is not None
    assert loaded.events[0].token_usage.completion_tokens == 7  # what the provider reported
    assert calls == ["my dog Rex"]
