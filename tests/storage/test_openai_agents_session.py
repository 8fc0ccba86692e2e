"""The OpenAI Agents SDK session on every store: a real ``Agent`` run by ``Runner`` with a scripted
model (no network) keeps the same history in our store as in the SDK's own ``SQLiteSession``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest
from agents import Agent, ModelResponse, RunConfig, Runner, SQLiteSession, Usage, function_tool
from agents.models.interface import Model
from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
)

from llm_sessions.exceptions import InvalidSessionId
from llm_sessions.integrations.openai_agents import ITEM_TYPE_KEY, LLMSessionsSession
from llm_sessions.models import EventSource, EventType
from llm_sessions.storage import SessionStore

if TYPE_CHECKING:
    from store_cases import StoreCase

TURNS = ["Weather in Paris?", "And in Rome?", "Thanks!"]


def _call(n: int, city: str) -> ResponseFunctionToolCall:
    return ResponseFunctionToolCall(
        type="function_call",
        call_id=f"call_{n}",
        name="weather",
        arguments=f'{{"city": "{city}"}}',
        id=f"fc_{n}",
        status="completed",
    )


def _text(n: int, text: str) -> ResponseOutputMessage:
    return ResponseOutputMessage(
        type="message",
        id=f"msg_{n}",
        role="assistant",
        status="completed",
        content=[ResponseOutputText(type="output_text", text=text, annotations=[])],
    )


class ScriptedModel(Model):
    """Replies from a script, and remembers how many items each request carried."""

    def __init__(self) -> None:
        self.script: list[Any] = [
            _call(1, "Paris"),
            _text(2, "It is 21C in Paris."),
            _call(3, "Rome"),
            _text(4, "It is 25C in Rome."),
            _text(5, "You're welcome."),
        ]
        self.input_sizes: list[int] = []

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        given = kwargs.get("input", args[1] if len(args) > 1 else None)
        self.input_sizes.append(len(given) if isinstance(given, list) else 1)
        return ModelResponse(output=[self.script.pop(0)], usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        raise AssertionError("the test does not stream")


@function_tool
def weather(city: str) -> str:
    """The temperature in a city."""
    return {"Paris": "21C", "Rome": "25C"}[city]


async def _run(session: Any) -> ScriptedModel:
    model = ScriptedModel()
    agent = Agent(name="forecaster", instructions="Answer briefly.", model=model, tools=[weather])
    for turn in TURNS:
        await Runner.run(agent, turn, session=session, run_config=RunConfig(tracing_disabled=True))
    return model


def _opener(case: StoreCase, writer: SessionStore) -> SessionStore:
    return case.open() if case.durable else writer


async def test_an_agent_keeps_the_same_history_as_in_the_sdk_sqlite_session(
    store_case: StoreCase,
) -> None:
    reference = SQLiteSession("user_123")
    expected_model = await _run(reference)
    expected = await reference.get_items()
    reference.close()

    store = store_case.open()
    ours = LLMSessionsSession("user_123", store=store)
    model = await _run(ours)
    assert model.input_sizes == expected_model.input_sizes  # the model saw the same history
    assert len(expected) == 10  # 3 user messages, 2 calls, 2 outputs, 3 replies
    reread = LLMSessionsSession("user_123", store=_opener(store_case, store))
    assert await reread.get_items() == expected
    assert await reread.get_items(limit=2) == expected[-2:]

    stored = await _opener(store_case, store).get("user_123")
    assert stored is not None
    kinds = [(e.source, e.type, e.metadata[ITEM_TYPE_KEY]) for e in stored.events[:4]]
    assert kinds == [
        (EventSource.USER, EventType.MESSAGE, "message"),
        (EventSource.LLM, EventType.TOOL_CALL, "function_call"),
        (EventSource.SYSTEM, EventType.TOOL_CALL, "function_call_output"),
        (EventSource.LLM, EventType.MESSAGE, "message"),
    ]
    assert stored.total_tokens > 0 and stored.total_cost > 0


async def test_pop_and_clear_are_seen_by_every_reader(store_case: StoreCase) -> None:
    store = store_case.open()
    session = LLMSessionsSession("popper", store=store)
    assert await session.pop_item() is None
    await session.add_items(
        [{"role": "user", "content": "one"}, {"role": "user", "content": "two"}]
    )
    assert await session.pop_item() == {"role": "user", "content": "two"}
    await session.add_items([{"role": "user", "content": "three"}])
    reader = LLMSessionsSession("popper", store=_opener(store_case, store))
    assert [item["content"] for item in await reader.get_items()] == ["one", "three"]
    await reader.clear_session()
    assert await session.get_items() == []
    await session.add_items([{"role": "user", "content": "again"}])
    assert [item["content"] for item in await reader.get_items()] == ["again"]


async def test_a_held_conversation_reads_only_what_was_stored_since_it_last_looked(
    store_case: StoreCase,
) -> None:
    store = store_case.open()
    runner_side = LLMSessionsSession("held", store=store)
    await runner_side.add_items([{"role": "user", "content": f"m{n}"} for n in range(5)])
    other_process = LLMSessionsSession("held", store=store_case.reader(store))
    await other_process.add_items([{"role": "assistant", "content": "from elsewhere"}])
    await other_process.pop_item()
    await other_process.add_items([{"role": "user", "content": "kept"}])

    async def no_full_read(session_id: str, **page: Any) -> None:
        raise AssertionError(f"{session_id} was read whole")

    if store_case.durable:  # the memory store's refresh is its (free) get
        store.get = no_full_read  # type: ignore[method-assign]
        store.read_events = no_full_read  # type: ignore[method-assign]
    items = await runner_side.get_items()
    assert [item["content"] for item in items] == ["m0", "m1", "m2", "m3", "m4", "kept"]
    assert [item["content"] for item in await runner_side.get_items(limit=2)] == ["m4", "kept"]


async def test_a_batch_of_items_is_one_write_of_all_its_events(store_case: StoreCase) -> None:
    if not store_case.durable:
        pytest.skip("the memory store keeps the objects themselves: it writes no rows")
    store = store_case.open()
    session = LLMSessionsSession("batched", store=store)
    await session.add_items([{"role": "user", "content": "first"}])  # creates the session
    written: list[int] = []
    real_write = store._write  # type: ignore[attr-defined]

    async def counted(batch: Any) -> None:
        written.append(len(batch.appended))
        await real_write(batch)

    store._write = counted  # type: ignore[attr-defined]
    await session.add_items([{"role": "user", "content": f"m{n}"} for n in range(5)])
    assert written == [5]
    reader = LLMSessionsSession("batched", store=store_case.reader(store))
    assert [item["content"] for item in await reader.get_items()][-5:] == [
        f"m{n}" for n in range(5)
    ]


async def test_a_store_url_is_opened_and_closed_by_the_session(tmp_path: Any) -> None:
    session = LLMSessionsSession("by-url", store=f"sqlite:///{tmp_path / 'agents.db'}")
    await session.add_items([{"role": "user", "content": "hi"}])
    await session.close()
    again = LLMSessionsSession("by-url", store=f"sqlite:///{tmp_path / 'agents.db'}")
    assert await again.get_items() == [{"role": "user", "content": "hi"}]
    await again.close()


def test_an_invalid_session_id_is_refused() -> None:
    with pytest.raises(InvalidSessionId, match="session_id"):
        LLMSessionsSession("../x", store="memory://")


async def _play(session: Any) -> list[Any]:
    """One script of the Session protocol's calls; what each call gave back."""
    said: list[Any] = [
        {"role": "user", "content": "Weather in Paris?"},
        {"type": "function_call", "call_id": "c1", "name": "weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "21C"},
        {
            "role": "assistant",
            "content": [{"type": "output_text", "text": "21C", "annotations": []}],
        },
    ]
    seen: list[Any] = [await session.get_items()]
    await session.add_items(said[:2])
    await session.add_items(said[2:])
    seen += [await session.get_items(), await session.get_items(limit=3)]
    seen += [await session.pop_item(), await session.get_items()]
    await session.clear_session()
    seen += [await session.get_items(), await session.pop_item()]
    await session.add_items([{"role": "user", "content": "again"}])
    return [*seen, await session.get_items()]


async def test_the_protocol_calls_give_what_the_sdk_sqlite_session_gives(
    store_case: StoreCase,
) -> None:
    reference = SQLiteSession("script")
    expected = await _play(reference)
    reference.close()
    store = store_case.open()
    assert await _play(LLMSessionsSession("script", store=store)) == expected
    reread = LLMSessionsSession("script", store=_opener(store_case, store))
    assert await reread.get_items() == expected[-1]
