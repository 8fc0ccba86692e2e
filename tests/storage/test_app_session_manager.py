"""The chat-app API of SessionManager on every store: get-or-create by id, store URLs,
``async with``, the system prompt, ``get_session`` and unpriced models in the stats."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

from llm_sessions import SessionManager
from llm_sessions.exceptions import (
    InvalidInputError,
    InvalidSessionOperation,
    SessionNotFound,
    TokenLimitExceeded,
)
from llm_sessions.storage import SessionStore

if TYPE_CHECKING:
    from store_cases import StoreCase


async def converse(sm: SessionManager, *exchanges: tuple[str, str]) -> None:
    """Record each (user message, model reply) pair, in order."""
    for question, answer in exchanges:
        await sm.user_says(question)
        await sm.ai_responds(answer, model="gpt-4o-mini")


@pytest.mark.parametrize("infinite", [False, True])
async def test_a_named_session_is_created_on_first_use_and_resumed(
    store_case: StoreCase, infinite: bool
) -> None:
    store = store_case.open()
    assert await store.get("alice-chat") is None
    first = SessionManager("alice-chat", infinite_context=infinite, store=store)
    assert await first.user_says("hello") == "alice-chat"
    await first.ai_responds("hi!", model="gpt-4o-mini")

    second = SessionManager("alice-chat", infinite_context=infinite, store=store_case.reader(store))
    await second.user_says("again")
    conversation = await second.get_conversation()
    assert [m["content"] for m in conversation] == ["hello", "hi!", "again"]
    assert await store.list_sessions() == ["alice-chat"]


@pytest.mark.parametrize("infinite", [False, True])
async def test_create_false_and_open_insist_that_the_session_exists(
    store_case: StoreCase, infinite: bool
) -> None:
    store = store_case.open()
    strict = SessionManager("bob", infinite_context=infinite, store=store, create=False)
    with pytest.raises(SessionNotFound, match="bob"):
        await strict.user_says("hello")
    with pytest.raises(SessionNotFound):
        await SessionManager.open("bob", infinite_context=infinite, store=store)
    assert await store.list_sessions() == []

    await SessionManager("bob", store=store).user_says("created")
    opened = await SessionManager.open("bob", infinite_context=infinite, store=store)
    assert [m["content"] for m in await opened.get_conversation()] == ["created"]


async def test_a_store_url_is_opened_and_closed_by_async_with(store_case: StoreCase) -> None:
    async with SessionManager("carol", store=store_case.url) as sm:
        await sm.user_says("by url")
        opened = sm.store
        assert isinstance(opened, SessionStore)
    with pytest.raises(Exception, match="closed"):
        await opened.get("carol")
    if store_case.durable:
        async with SessionManager("carol", store=store_case.url) as again:
            assert [m["content"] for m in await again.get_conversation()] == ["by url"]


async def test_async_with_leaves_a_given_store_open(store_case: StoreCase) -> None:
    store = store_case.open()
    async with SessionManager("dave", store=store) as sm:
        await sm.user_says("hello")
    assert (await store.get("dave")) is not None


async def test_the_system_prompt_comes_first_and_can_change(store_case: StoreCase) -> None:
    store = store_case.open()
    sm = SessionManager("eve", store=store, system_prompt="You are terse.")
    await sm.user_says("hi")
    await sm.ai_responds("Hi.", model="gpt-4o-mini")
    await sm.set_system_prompt("You are verbose.")
    await sm.user_says("more")

    resumed = SessionManager("eve", store=store_case.reader(store))
    messages = await resumed.get_messages_for_llm()
    assert messages[0] == {"role": "system", "content": "You are verbose."}
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert await resumed.get_system_prompt() == "You are verbose."
    assert [m["content"] for m in await resumed.get_conversation()] == ["hi", "Hi.", "more"]


async def test_the_same_system_prompt_is_not_recorded_twice(store_case: StoreCase) -> None:
    store = store_case.open()
    await SessionManager("frank", store=store, system_prompt="Be kind.").user_says("a")
    again = SessionManager("frank", store=store_case.reader(store), system_prompt="Be kind.")
    await again.user_says("b")
    session = await again.get_session()
    assert sum(1 for e in session.events if e.metadata.get("system_prompt")) == 1


async def test_the_system_prompt_counts_in_the_budget(store_case: StoreCase) -> None:
    store = store_case.open()
    prompt = "You answer questions about the weather. " * 20
    sm = SessionManager("gina", store=store, system_prompt=prompt)
    await converse(
        sm,
        *(
            (f"question {n} about the sky and the clouds today", f"answer {n}: it is sunny")
            for n in range(30)
        ),
    )
    unbounded = await sm.get_messages_for_llm()
    with_prompt = await sm.get_messages_for_llm(max_tokens=400)
    assert with_prompt[0]["content"] == prompt
    assert len(with_prompt) < len(unbounded)
    from llm_sessions.tokens import count_chat_messages

    assert count_chat_messages(with_prompt, "gpt-4o-mini").tokens <= 400
    with pytest.raises(TokenLimitExceeded):
        await sm.get_messages_for_llm(max_tokens=50)


@pytest.mark.parametrize("infinite", [False, True])
async def test_the_system_prompt_is_carried_into_new_segments(
    store_case: StoreCase, infinite: bool
) -> None:
    store = store_case.open()
    sm = SessionManager(
        "hank", infinite_context=infinite, token_threshold=0, store=store, system_prompt="Sys."
    )
    await converse(sm, *((f"message {n}", f"reply {n}") for n in range(3)))
    messages = await SessionManager(
        "hank", infinite_context=infinite, store=store
    ).get_messages_for_llm()
    assert messages[0] == {"role": "system", "content": "Sys."}
    assert sum(1 for m in messages if m["content"] == "Sys.") == 1


async def test_get_session_gives_the_stored_session(store_case: StoreCase) -> None:
    store = store_case.open()
    sm = SessionManager("ivy", store=store)
    session = await sm.get_session()
    assert session.id == "ivy" and session.events == []
    await sm.user_says("hello")
    assert [e.message for e in (await sm.get_session()).events] == ["hello"]


async def test_stats_name_unpriced_models(store_case: StoreCase) -> None:
    sm = SessionManager("jo", store=store_case.open())
    await sm.user_says("hello")
    await sm.ai_responds("hi", model="my-local-model-xyz")
    stats = await sm.get_stats()
    assert stats["unpriced_models"] == ["my-local-model-xyz"]
    assert stats["estimated_cost"] > 0  # the user message, priced as gpt-4o-mini


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [42, ["You are"], {"text": "x"}])
async def test_a_system_prompt_that_is_not_a_string_is_refused(
    store_case: StoreCase, bad: Any
) -> None:
    store = store_case.open()
    with pytest.raises(InvalidInputError, match="system_prompt"):
        SessionManager("kim", store=store, system_prompt=bad)
    sm = SessionManager("kim", store=store, system_prompt="ok")
    await sm.user_says("hello")
    with pytest.raises(InvalidInputError, match="system_prompt"):
        await sm.set_system_prompt(bad)
    assert await sm.get_system_prompt() == "ok"
    assert len((await sm.get_session()).events) == 2


@pytest.mark.parametrize("url", ["nonsense", "ftp://host/x", "sqlite:", 7])
def test_a_store_url_that_does_not_parse_is_refused(url: Any) -> None:
    with pytest.raises(InvalidInputError, match=r"url|store"):
        SessionManager("lee", store=url)


# -- undo and clear ----------------------------------------------------------------------------


async def test_pop_last_turn_removes_the_newest_user_message_and_what_followed(
    store_case: StoreCase,
) -> None:
    store = store_case.open()
    sm = SessionManager("undo", store=store, system_prompt="Sys.")
    await converse(sm, ("first", "one"), ("second", "two"))
    await sm.tool_used("lookup", {"q": "x"}, "found")
    removed = await sm.pop_last_turn()
    assert [e.message for e in removed][:2] == ["second", "two"] and len(removed) == 3

    other = SessionManager("undo", store=store_case.reader(store))
    assert [m["content"] for m in await other.get_conversation()] == ["first", "one"]
    stats = await other.get_stats()
    assert (stats["user_messages"], stats["ai_messages"], stats["tool_calls"]) == (1, 1, 0)
    assert (await other.get_messages_for_llm())[0] == {"role": "system", "content": "Sys."}
    await sm.user_says("again")
    assert [m["content"] for m in await other.get_conversation()] == ["first", "one", "again"]


async def test_clear_empties_the_conversation_but_keeps_the_system_prompt(
    store_case: StoreCase,
) -> None:
    store = store_case.open()
    sm = SessionManager("wipe", store=store, system_prompt="Sys.")
    await sm.user_says("hello")
    await sm.ai_responds("hi", model="gpt-4o-mini")
    await sm.clear()
    other = SessionManager("wipe", store=store_case.reader(store))
    assert await other.get_conversation() == []
    assert await other.get_messages_for_llm() == [{"role": "system", "content": "Sys."}]
    await sm.user_says("fresh start")
    assert [m["content"] for m in await other.get_conversation()] == ["fresh start"]


async def test_clear_empties_every_segment(store_case: StoreCase) -> None:
    store = store_case.open()
    sm = SessionManager("wipe-all", infinite_context=True, token_threshold=0, store=store)
    await converse(sm, *((f"q{n}", f"a{n}") for n in range(3)))
    assert len(await sm.get_session_chain()) == 3
    await sm.clear()
    other = SessionManager("wipe-all", infinite_context=True, store=store_case.reader(store))
    assert await other.get_conversation() == []
    assert (await other.get_stats())["total_events"] == 0


async def test_pop_on_a_session_without_a_user_message_is_refused(
    store_case: StoreCase,
) -> None:
    store = store_case.open()
    sm = SessionManager("empty", store=store, system_prompt="Sys.")
    with pytest.raises(InvalidSessionOperation, match="no user message"):
        await sm.pop_last_turn()
    assert len((await sm.get_session()).events) == 1


# -- tool calls --------------------------------------------------------------------------------

_CALLS = [
    {
        "id": "call_paris",
        "type": "function",
        "function": {"name": "weather", "arguments": '{"city": "Paris"}'},
    },
    {
        "id": "call_oslo",
        "type": "function",
        "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
    },
]


def _completion(message: dict[str, Any]) -> Any:
    from openai.types.chat import ChatCompletion

    return ChatCompletion.model_validate(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": "gpt-4o-mini",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": message}],
            "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70},
        }
    )


@pytest.mark.parametrize("form", ["dict", "completion"])
async def test_a_reply_with_tool_calls_renders_in_api_order(
    store_case: StoreCase, form: str
) -> None:
    store = store_case.open()
    sm = SessionManager("tools", store=store, system_prompt="Sys.")
    await sm.user_says("Weather in Paris and Oslo?")
    message = {"role": "assistant", "content": None, "tool_calls": _CALLS}
    await sm.ai_responds(message if form == "dict" else _completion(message), model="gpt-4o-mini")
    await sm.tool_used("weather", {"city": "Oslo"}, {"temp": 12}, call_id="call_oslo")
    await sm.tool_used("weather", {"city": "Paris"}, {"temp": 21}, call_id="call_paris")
    await sm.ai_responds("Paris 21, Oslo 12.", model="gpt-4o-mini")

    messages = await SessionManager("tools", store=store_case.reader(store)).get_messages_for_llm()
    assert [m["role"] for m in messages] == [
        "system",
        "user",
        "assistant",
        "tool",
        "tool",
        "assistant",
    ]
    declared = [c["id"] for c in messages[2]["tool_calls"]]
    assert sorted(declared) == ["call_oslo", "call_paris"]
    assert [m["tool_call_id"] for m in messages[3:5]] == declared  # each call answered, in turn
    answers = {m["tool_call_id"]: m["content"].replace(" ", "") for m in messages[3:5]}
    assert '"temp":21' in answers["call_paris"] and '"temp":12' in answers["call_oslo"]
    if form == "completion":
        stats = await sm.get_stats()
        reply = (await sm.get_session()).events[2]
        assert reply.token_usage is not None and reply.token_usage.completion_tokens == 20
        assert stats["ai_messages"] == 2


async def test_process_llm_message_runs_tools_on_the_managers_store(
    store_case: StoreCase,
) -> None:
    from llm_sessions.tools import ToolRegistry

    registry = ToolRegistry()

    @registry.register
    async def weather(city: str) -> dict[str, Any]:
        return {"city": city, "temp": 21 if city == "Paris" else 12}

    store = store_case.open()
    sm = SessionManager("proc", store=store, tool_options={"registry": registry})
    await sm.user_says("Weather?")
    results = await sm.process_llm_message({"role": "assistant", "tool_calls": _CALLS}, None)
    assert [r.result for r in results] == [
        {"city": "Paris", "temp": 21},
        {"city": "Oslo", "temp": 12},
    ]
    await sm.ai_responds("Paris 21, Oslo 12.", model="gpt-4o-mini")
    assert sm.tools.store is store

    other = SessionManager("proc", store=store_case.reader(store))
    messages = await other.get_messages_for_llm()
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "tool", "assistant"]
    assert (await other.get_stats())["tool_calls"] == 2


@pytest.mark.parametrize("bad", ["", 42])
async def test_a_call_id_that_is_not_a_string_is_refused(store_case: StoreCase, bad: Any) -> None:
    sm = SessionManager("bad-call", store=store_case.open())
    await sm.user_says("hi")
    with pytest.raises(InvalidInputError, match="call_id"):
        await sm.tool_used("weather", {}, 1, call_id=bad)
    assert len((await sm.get_session()).events) == 1


async def test_a_reply_with_malformed_tool_calls_is_refused(store_case: StoreCase) -> None:
    sm = SessionManager("bad-reply", store=store_case.open())
    await sm.user_says("hi")
    with pytest.raises(InvalidInputError, match="tool_calls"):
        await sm.ai_responds({"role": "assistant", "tool_calls": "weather()"})
    assert len((await sm.get_session()).events) == 1


# -- fork, whole conversations, delete ---------------------------------------------------------


async def test_fork_at_an_event_copies_up_to_it_and_leaves_the_original(
    store_case: StoreCase,
) -> None:
    store = store_case.open()
    sm = SessionManager("trunk", store=store, system_prompt="Sys.")
    await converse(sm, ("one", "reply one"), ("two", "reply two"))
    reply_one = (await sm.get_session()).events[2]
    assert reply_one.message == "reply one"

    branch = await sm.fork(reply_one.id, session_id="branch")
    assert branch.session_id == "branch"
    await branch.user_says("two, differently")

    reader = store_case.reader(store)
    forked = SessionManager("branch", store=reader, create=False)
    assert [m["content"] for m in await forked.get_conversation()] == [
        "one",
        "reply one",
        "two, differently",
    ]
    assert (await forked.get_messages_for_llm())[0] == {"role": "system", "content": "Sys."}
    session = await forked.get_session()
    assert session.parent_id == "trunk"
    assert session.metadata.properties["forked_from"] == {
        "session_id": "trunk",
        "event_id": reply_one.id,
    }
    original = SessionManager("trunk", store=reader)
    assert [m["content"] for m in await original.get_conversation()] == [
        "one",
        "reply one",
        "two",
        "reply two",
    ]
    assert (await original.get_session()).child_ids == []


async def test_fork_across_segments_of_an_infinite_conversation(store_case: StoreCase) -> None:
    store = store_case.open()
    sm = SessionManager("long", infinite_context=True, token_threshold=0, store=store)
    await converse(sm, *((f"q{n}", f"a{n}") for n in range(3)))
    chain = await sm.get_session_chain()
    assert len(chain) == 3
    first_segment = await store.get(chain[1])
    assert first_segment is not None
    at = next(e for e in first_segment.events if e.message == "a1")

    branch = await sm.fork(at.id)
    contents = [m["content"] for m in await branch.get_conversation()]
    assert contents == ["q0", "a0", "q1", "a1"]
    assert [m["content"] for m in await sm.get_conversation()] == [
        "q0",
        "a0",
        "q1",
        "a1",
        "q2",
        "a2",
    ]


async def test_whole_conversation_stats_and_delete(store_case: StoreCase) -> None:
    store = store_case.open()
    sm = SessionManager("chain", infinite_context=True, token_threshold=0, store=store)
    await converse(sm, *((f"q{n}", f"a{n}") for n in range(3)))
    chain = await sm.get_session_chain()
    whole = await sm.get_conversation(all_segments=True)
    assert [m["content"] for m in whole] == ["q0", "a0", "q1", "a1", "q2", "a2"]
    assert [m["content"] for m in await sm.get_conversation(all_segments=False)] == ["q2", "a2"]
    stats = await sm.get_stats(all_segments=True)
    assert stats["session_segments"] == 3 and stats["user_messages"] == 3
    segments = [await store.get(i) for i in chain]
    assert stats["total_tokens"] == sum(s.total_tokens for s in segments if s is not None)

    assert await sm.delete() == 3
    reader = store_case.reader(store)
    for segment_id in chain:
        assert await reader.get(segment_id) is None
    assert await sm.get_conversation() == []  # a fresh start under the same id


async def test_fork_at_an_unknown_event_is_refused(store_case: StoreCase) -> None:
    store = store_case.open()
    sm = SessionManager("no-fork", store=store)
    await sm.user_says("hello")
    with pytest.raises(InvalidInputError, match="at_event_id"):
        await sm.fork("no-such-event")
    assert await store.list_sessions() == ["no-fork"]


async def test_two_writers_creating_one_id_at_once_share_it(store_case: StoreCase) -> None:
    store = store_case.open()

    async def say(text: str) -> None:
        await SessionManager("race", store=store_case.reader(store)).user_says(text)

    await asyncio.gather(say("from one"), say("from two"))
    contents = [m["content"] for m in await SessionManager("race", store=store).get_conversation()]
    assert sorted(contents) == ["from one", "from two"]
    assert await store.list_sessions() == ["race"]
