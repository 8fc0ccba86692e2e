"""A stateful property test: random adds, in-place edits, bad values, removals, saves, reloads
and deletes through two store objects on the same data, on every store. After each step a fresh
load of every session equals what the library said it stored.

Bounded by default; ``LLM_SESSIONS_STATEFUL_EXAMPLES=<n>`` runs a longer profile (see README).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from llm_sessions.exceptions import InvalidInputError, SessionNotFound
from llm_sessions.models import Session, SessionEvent
from llm_sessions.storage import SessionStore, open_store

if TYPE_CHECKING:
    from store_cases import StoreCase

EXAMPLES = int(os.environ.get("LLM_SESSIONS_STATEFUL_EXAMPLES", "6"))
STEPS = 40 if EXAMPLES > 6 else 12

SLOTS = range(2)  # sessions per run
WRITERS = range(2)  # store objects on the same data ("processes")
json_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=8)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | json_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(json_text, inner, max_size=3),
    max_leaves=6,
)
bad_value = st.sampled_from([object(), "x\ud800", {1: "x"}, float("inf"), {"k\udc00": 1}])


def make_machine(url: str, shared_memory: bool) -> type[RuleBasedStateMachine]:
    class StoreMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.loop = asyncio.new_event_loop()
            first = open_store(url)
            self.stores: list[SessionStore] = [
                first if shared_memory else open_store(url) if n else first for n in WRITERS
            ]
            self.ids = [f"sm-{uuid.uuid4().hex[:10]}-{n}" for n in SLOTS]
            self.held: dict[tuple[int, int], Session[Any]] = {}
            self.expected: dict[int, dict[str, Any] | None] = {}  # slot -> events, or deleted
            self.state: dict[int, dict[str, Any]] = {}
            self.removed: set[str] = set()

        def run(self, coroutine: Any) -> Any:
            return self.loop.run_until_complete(coroutine)

        def teardown(self) -> None:
            for session_id in self.ids:
                self.run(self.stores[0].delete(session_id))
            for store in {id(s): s for s in self.stores}.values():
                self.run(store.close())
            self.loop.close()

        def saved(self, slot: int, written: list[SessionEvent[Any]]) -> None:
            """A save wrote ``written`` (new or edited events); a removed id stays removed."""
            events = self.expected[slot]
            assert events is not None
            for event in written:
                if event.id not in self.removed:
                    events[event.id] = {"message": event.message, "metadata": dict(event.metadata)}

        @rule(slot=st.sampled_from(SLOTS), writer=st.sampled_from(WRITERS))
        def create(self, slot: int, writer: int) -> None:
            if self.expected.get(slot) is not None:
                return
            session = self.run(Session.create(id=self.ids[slot], store=self.stores[writer]))
            for key in [k for k in self.held if k[0] == slot]:
                del self.held[key]
            self.held[(slot, writer)] = session
            self.expected[slot], self.state[slot] = {}, {}

        @rule(slot=st.sampled_from(SLOTS), writer=st.sampled_from(WRITERS))
        def reload(self, slot: int, writer: int) -> None:
            loaded = self.run(self.stores[writer].get(self.ids[slot]))
            assert (loaded is None) == (self.expected.get(slot) is None)
            if loaded is not None:
                self.held[(slot, writer)] = loaded

        @rule(slot=st.sampled_from(SLOTS), writer=st.sampled_from(WRITERS), message=json_value)
        def add(self, slot: int, writer: int, message: Any) -> None:
            session = self.held.get((slot, writer))
            if session is None:
                return
            event = SessionEvent(message=message)
            if self.expected.get(slot) is None:
                with pytest.raises(SessionNotFound):
                    self.run(session.add_event_and_save(event))
                assert event not in session.events
                return
            self.run(session.add_event_and_save(event))
            self.saved(slot, [event])

        @rule(
            slot=st.sampled_from(SLOTS),
            writer=st.sampled_from(WRITERS),
            key=json_text,
            value=json_value,
        )
        def edit_in_place(self, slot: int, writer: int, key: str, value: Any) -> None:
            session = self.held.get((slot, writer))
            if session is None or not session.events or self.expected.get(slot) is None:
                return
            session.events[-1].metadata[key] = value
            self.run(session.store.save(session))
            self.saved(slot, [session.events[-1]])

        @rule(slot=st.sampled_from(SLOTS), writer=st.sampled_from(WRITERS), bad=bad_value)
        def bad_values_change_nothing(self, slot: int, writer: int, bad: Any) -> None:
            session = self.held.get((slot, writer))
            if session is None:
                return
            before = session.model_dump(mode="json")
            with pytest.raises(InvalidInputError):
                self.run(session.set_state("bad", bad))
            if session.events:
                with pytest.raises(InvalidInputError):
                    session.events[0].metadata["bad"] = bad
            assert session.model_dump(mode="json") == before

        @rule(slot=st.sampled_from(SLOTS), writer=st.sampled_from(WRITERS), value=json_value)
        def set_state(self, slot: int, writer: int, value: Any) -> None:
            session = self.held.get((slot, writer))
            if session is None:
                return
            if self.expected.get(slot) is None:
                with pytest.raises(SessionNotFound):
                    self.run(session.set_state("k", value))
                return
            self.run(session.set_state("k", value))
            self.state[slot]["k"] = value

        @rule(slot=st.sampled_from(SLOTS), writer=st.sampled_from(WRITERS))
        def remove_last(self, slot: int, writer: int) -> None:
            session = self.held.get((slot, writer))
            events = self.expected.get(slot)
            if session is None or events is None or not session.events:
                return
            gone = session.events[-1].id
            self.run(session.remove_events([gone]))
            self.removed.add(gone)
            events.pop(gone, None)

        @rule(slot=st.sampled_from(SLOTS), writer=st.sampled_from(WRITERS))
        def delete(self, slot: int, writer: int) -> None:
            existed = self.run(self.stores[writer].delete(self.ids[slot]))
            assert existed == (self.expected.get(slot) is not None)
            self.expected[slot] = None

        @invariant()
        def a_fresh_load_equals_what_was_stored(self) -> None:
            reader = self.stores[0] if shared_memory else open_store(url)
            try:
                for slot in SLOTS:
                    loaded = self.run(reader.get(self.ids[slot]))
                    expected = self.expected.get(slot)
                    if expected is None:
                        assert loaded is None
                        continue
                    assert loaded is not None
                    stored = {
                        e.id: {"message": e.message, "metadata": dict(e.metadata)}
                        for e in loaded.events
                    }
                    assert stored == expected
                    assert loaded.state == self.state[slot]
            finally:
                if not shared_memory:
                    self.run(reader.close())

    return StoreMachine


async def test_what_a_fresh_load_sees_is_what_the_library_stored(store_case: StoreCase) -> None:
    store_case.open()  # registers the data for clean-up
    machine = make_machine(store_case.url, shared_memory=not store_case.durable)
    profile = settings(
        max_examples=EXAMPLES,
        stateful_step_count=STEPS,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    # The machine runs its own event loop, so it runs in a thread of its own.
    await asyncio.to_thread(run_state_machine_as_test, machine, settings=profile)
