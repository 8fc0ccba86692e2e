"""The LangChain chat message history on SQLite, Redis and PostgreSQL: LangChain's own message
classes round-trip exactly, usage becomes tokens and cost, ``RunnableWithMessageHistory`` resumes
a conversation in a second process, and bad input stores nothing."""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
from asyncio.subprocess import PIPE
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import pytest
from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from llm_sessions.exceptions import InvalidInputError, InvalidSessionId
from llm_sessions.integrations.langchain import MESSAGE_TYPE_KEY, LLMSessionsChatMessageHistory
from llm_sessions.models import EventSource, EventType

if TYPE_CHECKING:
    from store_cases import StoreCase

CALL = {"name": "weather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"}
USAGE = {"input_tokens": 120, "output_tokens": 9, "total_tokens": 129}
MESSAGES: list[BaseMessage] = [
    SystemMessage("Answer briefly."),
    HumanMessage("Weather in Paris?", id="h1"),
    AIMessage(
        "",
        tool_calls=[CALL],
        usage_metadata=USAGE,  # type: ignore[arg-type]
        response_metadata={"model_name": "gpt-4o"},
        id="a1",
    ),
    ToolMessage("21C", tool_call_id="call_1", name="weather"),
    AIMessage("It is 21C in Paris.", additional_kwargs={"refusal": None}),
]

CHAIN = """
from langchain_core.messages import AIMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import RunnableLambda
from langchain_core.runnables.history import RunnableWithMessageHistory

from llm_sessions.integrations.langchain import LLMSessionsChatMessageHistory

def reply(prompt):
    seen = prompt.to_messages()
    return AIMessage(f"{len(seen)} messages; last: {seen[-1].content}")

prompt = ChatPromptTemplate.from_messages(
    [MessagesPlaceholder("history"), ("human", "{question}")]
)
chain = RunnableWithMessageHistory(
    prompt | RunnableLambda(reply),
    lambda session_id: LLMSessionsChatMessageHistory(session_id, store=URL),
    input_messages_key="question",
    history_messages_key="history",
)
"""


def _chain(store: Any) -> Any:
    """The chain of ``CHAIN`` over ``store`` (a URL, as the second process is given, or a store
    object the test closes: a history the chain opens from a URL is never closed by it)."""
    scope: dict[str, Any] = {"URL": store}
    exec(CHAIN, scope)
    return scope["chain"]


async def test_every_message_kind_round_trips_with_its_usage(framework_case: StoreCase) -> None:
    writer = LLMSessionsChatMessageHistory("lc-1", store=framework_case.open())
    assert isinstance(writer, BaseChatMessageHistory)
    await writer.aadd_messages(MESSAGES[:2])
    await writer.aadd_messages(MESSAGES[2:])

    reader = LLMSessionsChatMessageHistory("lc-1", store=framework_case.open())
    assert await reader.aget_messages() == MESSAGES

    stored = await framework_case.open().get("lc-1")
    assert stored is not None
    kinds = [(e.source, e.type, e.metadata[MESSAGE_TYPE_KEY]) for e in stored.events]
    assert kinds == [
        (EventSource.SYSTEM, EventType.MESSAGE, "system"),
        (EventSource.USER, EventType.MESSAGE, "human"),
        (EventSource.LLM, EventType.TOOL_CALL, "ai"),
        (EventSource.SYSTEM, EventType.TOOL_CALL, "tool"),
        (EventSource.LLM, EventType.MESSAGE, "ai"),
    ]
    call = stored.events[2].token_usage
    assert call is not None
    assert (call.prompt_tokens, call.completion_tokens, call.model) == (120, 9, "gpt-4o")
    assert call.estimated_cost_usd > 0
    assert stored.total_tokens > 129


@pytest.mark.parametrize(
    ("role", "source"),
    [("user", EventSource.USER), ("assistant", EventSource.LLM), ("critic", EventSource.SYSTEM)],
)
async def test_a_chat_message_comes_from_its_role(
    framework_case: StoreCase, role: str, source: EventSource
) -> None:
    history = LLMSessionsChatMessageHistory("lc-7", store=framework_case.open())
    message = ChatMessage("Looks right.", role=role)
    await history.aadd_messages([message])
    assert await history.aget_messages() == [message]
    stored = await history.store.get("lc-7")
    assert stored is not None and stored.events[0].source is source


async def test_clear_empties_the_conversation_for_every_reader(framework_case: StoreCase) -> None:
    history = LLMSessionsChatMessageHistory("lc-2", store=framework_case.open())
    await history.aadd_messages(MESSAGES)
    await history.aclear()
    reader = LLMSessionsChatMessageHistory("lc-2", store=framework_case.open())
    assert await reader.aget_messages() == []


async def test_the_sync_methods_work_while_a_loop_runs(framework_case: StoreCase) -> None:
    history = LLMSessionsChatMessageHistory("lc-3", store=framework_case.url)
    history.add_messages(MESSAGES[:2])
    history.add_user_message("And in Rome?")
    assert history.messages == [*MESSAGES[:2], HumanMessage("And in Rome?")]
    assert await history.aget_messages() == history.messages  # the same store, either way
    history.clear()
    assert history.messages == []
    await history.aclose()


# langchain-core 1.x deprecates RunnableWithMessageHistory (for LangGraph), and still ships it.
@pytest.mark.filterwarnings("ignore:RunnableWithMessageHistory is deprecated")
async def test_a_second_process_resumes_the_conversation(framework_case: StoreCase) -> None:
    chain = _chain(framework_case.open())
    config = {"configurable": {"session_id": "lc-4"}}
    first = await chain.ainvoke({"question": "Weather in Paris?"}, config=config)
    assert first.content == "1 messages; last: Weather in Paris?"

    script = CHAIN + textwrap.dedent("""
        config = {"configurable": {"session_id": "lc-4"}}
        print(chain.invoke({"question": "And in Rome?"}, config=config).content)
    """)
    source = f"URL = {json.dumps(framework_case.url)}\n{script}"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", source, stdout=PIPE, stderr=PIPE
    )
    out, err = await asyncio.wait_for(child.communicate(), 120)
    assert child.returncode == 0, err.decode()
    assert out.decode().strip() == "3 messages; last: And in Rome?"

    history = LLMSessionsChatMessageHistory("lc-4", store=framework_case.open())
    contents = [m.content for m in await history.aget_messages()]
    assert contents == [
        "Weather in Paris?",
        "1 messages; last: Weather in Paris?",
        "And in Rome?",
        "3 messages; last: And in Rome?",
    ]


class Note(BaseMessage):
    """A message class LangChain allows but cannot read back from its dict."""

    type: Literal["note"] = "note"


@pytest.mark.parametrize(
    "bad",
    [
        HumanMessage("when?", additional_kwargs={"at": datetime(2026, 1, 1, tzinfo=UTC)}),
        Note("a note"),
        "not a message",
    ],
    ids=["not-json", "unreadable-type", "not-a-message"],
)
async def test_a_message_we_cannot_store_is_refused_and_nothing_is_stored(
    framework_case: StoreCase, bad: Any
) -> None:
    history = LLMSessionsChatMessageHistory("lc-5", store=framework_case.open())
    with pytest.raises(InvalidInputError, match=r"messages\[1\]"):
        await history.aadd_messages([HumanMessage("fine"), bad])
    assert await history.aget_messages() == []
    assert await history.store.get("lc-5") is None


def test_an_invalid_session_id_is_refused() -> None:
    with pytest.raises(InvalidSessionId, match=r"session_id='\.\./x'"):
        LLMSessionsChatMessageHistory("../x", store="memory://")


async def test_a_history_on_a_url_serves_calls_from_any_event_loop(
    framework_case: StoreCase,
) -> None:
    history = LLMSessionsChatMessageHistory("lc-6", store=framework_case.url)

    def on_new_loops() -> list[BaseMessage]:
        # Each asyncio.run is a new loop; a Redis or PostgreSQL connection belongs to one.
        asyncio.run(history.aadd_messages(MESSAGES[:2]))
        history.add_messages(MESSAGES[2:])
        return asyncio.run(history.aget_messages())

    assert await asyncio.to_thread(on_new_loops) == MESSAGES
    await history.aclose()
