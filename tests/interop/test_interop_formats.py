"""The interop formats: JSON Lines (property-based round trips, one test per kind of bad file),
OpenAI chat messages and Responses items."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llm_sessions.exceptions import InvalidFileError, InvalidInputError
from llm_sessions.interop import Format, detect_format, export_session, import_session, jsonl
from llm_sessions.interop.openai_chat import dump as dump_chat
from llm_sessions.interop.openai_chat import load as load_chat
from llm_sessions.interop.openai_responses import dump as dump_items
from llm_sessions.interop.openai_responses import load as load_items
from llm_sessions.models import EventSource, EventType
from llm_sessions.models.session import Session
from llm_sessions.models.session_event import SessionEvent
from llm_sessions.models.token_usage import TokenUsage
from llm_sessions.storage import InMemorySessionStore
from llm_sessions.tokens import count_text

MODEL = "gpt-4o-mini"

# Values the models accept: valid UTF-8 without NUL.
chars = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
ids = st.text("abcdefghij0123456789-_", min_size=1, max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(chars, max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(chars, max_size=5), inner),
    max_leaves=8,
)
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
usages = st.none() | st.builds(
    TokenUsage,
    prompt_tokens=st.integers(0, 10_000),
    completion_tokens=st.integers(0, 10_000),
    model=st.sampled_from(["gpt-4o-mini", "local-model"]),
)
events = st.builds(
    SessionEvent,
    id=ids,
    message=json_values,
    timestamp=times,
    source=st.sampled_from(list(EventSource)),
    type=st.sampled_from(list(EventType)),
    metadata=st.dictionaries(st.text(chars, max_size=5), json_values, max_size=3),
    token_usage=usages,
)
sessions = st.builds(
    Session,
    id=ids,
    parent_id=st.none() | ids,
    child_ids=st.lists(ids, max_size=3),
    state=st.dictionaries(st.text(chars, max_size=5), json_values, max_size=3),
    events=st.lists(events, max_size=6, unique_by=lambda event: event.id),
)


@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(sessions, min_size=1, max_size=3, unique_by=lambda session: session.id))
def test_jsonl_reads_back_exactly_what_it_wrote(written: list[Session[Any]]) -> None:
    text = asyncio.run(jsonl.dump(written))
    read = jsonl.parse(text)
    assert [s.model_dump(mode="json") for s in read] == [s.model_dump(mode="json") for s in written]
    assert asyncio.run(jsonl.dump(read)) == text


def _two_sessions() -> str:
    first = Session(id="one", events=[SessionEvent(id="e1", message="a")])
    second = Session(id="two", events=[SessionEvent(id="e2", message="b"), SessionEvent(message=2)])
    return asyncio.run(jsonl.dump([first, second]))


def _lines() -> list[str]:
    return _two_sessions().splitlines(keepends=True)


def _edited(line: int, change: Any) -> str:
    lines = _lines()
    record = json.loads(lines[line - 1])
    change(record)
    lines[line - 1] = json.dumps(record) + "\n"
    return "".join(lines)


def _drop_count(record: dict[str, Any]) -> None:
    record.pop("event_count")


BAD_FILES = {
    "a line cut short": ("".join(_lines())[:-20], 5, "not JSON"),
    "events missing at the end": ("".join(_lines()[:-1]), 4, "truncated"),
    "a wrong version": (_edited(3, lambda r: r.update(version=2)), 3, "version 2"),
    "no version": (_edited(1, lambda r: r.pop("version")), 1, 'header has no "version"'),
    "an event before its header": ("".join(_lines()[1:]), 1, "before any session header"),
    "a session id twice": (_edited(3, lambda r: r.update(id="one")), 3, "'one' appears twice"),
    "an event id twice": (_edited(5, lambda r: r.update(id="e2")), 5, "'e2' appears twice"),
    "an event of another session": (
        _edited(4, lambda r: r.update(session_id="one")),
        4,
        "inside session 'two'",
    ),
    "no event count": (_edited(1, _drop_count), 1, "event_count None"),
    "an invalid event": (_edited(2, lambda r: r.update(source="robot")), 2, "not a valid event"),
    "an invalid session id": (_edited(1, lambda r: r.update(id="../x")), 1, "id='../x'"),
    "not an object": ('["a list"]\n', 1, "expected an object"),
    "an empty file": ("", 1, "no session"),
}


@pytest.mark.parametrize("kind", BAD_FILES)
async def test_a_bad_file_names_its_line_and_stores_nothing(kind: str) -> None:
    text, line, reason = BAD_FILES[kind]
    store = InMemorySessionStore()
    with pytest.raises(InvalidFileError, match=reason) as raised:
        await import_session(store, text)
    assert raised.value.line == line
    assert str(raised.value).startswith(f"line {line}:")
    assert await store.list_sessions() == []


async def test_a_file_in_another_format_says_which_format_it_looks_like() -> None:
    chat = json.dumps([{"role": "user", "content": "hi"}], indent=2)
    store = InMemorySessionStore()
    with pytest.raises(InvalidFileError, match="looks like the 'openai' format, not 'jsonl'"):
        await import_session(store, chat)
    assert await store.list_sessions() == []
    assert detect_format(chat) is Format.OPENAI
    assert detect_format('[{"type": "function_call", "call_id": "c"}]') is Format.OPENAI_RESPONSES
    assert detect_format('{"record": "session", "version": 1}\n') is Format.JSONL
    assert detect_format("hello") is None


async def test_an_unknown_format_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(InvalidInputError, match="openai-responses"):
        await import_session(InMemorySessionStore(), "[]", format="xml")


CHAT = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Weather in Paris and Rome?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "weather", "arguments": '{"city": "Paris"}'},
            },
            {
                "id": "call_2",
                "type": "function",
                "function": {"name": "weather", "arguments": '{"city": "Rome"}'},
            },
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "21C"},
    {"role": "tool", "tool_call_id": "call_2", "content": "25C"},
    {"role": "assistant", "content": "Paris 21C, Rome 25C."},
]


async def test_openai_chat_messages_import_as_events_and_export_unchanged() -> None:
    store = InMemorySessionStore()
    [session_id] = await import_session(store, json.dumps(CHAT), format="openai")
    session = await store.get(session_id)
    assert session is not None
    kinds = [(event.source.value, event.type.value) for event in session.events]
    assert kinds == [
        ("system", "message"),
        ("user", "message"),
        ("llm", "message"),
        ("system", "tool_call"),
        ("system", "tool_call"),
        ("llm", "message"),
    ]
    reply = session.events[2]
    assert [event.parent_event_id for event in session.events[3:5]] == [reply.id, reply.id]
    assert session.events[3].message["tool"] == "weather"
    assert session.events[1].token_usage is not None
    assert (
        session.events[1].token_usage.prompt_tokens == count_text(CHAT[1]["content"], MODEL).tokens
    )
    assert json.loads(await export_session(store, session_id, "openai")) == CHAT


ITEMS = [
    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "2+2?"}]},
    {"type": "function_call", "call_id": "c1", "name": "add", "arguments": '{"a":2,"b":2}'},
    {"type": "function_call_output", "call_id": "c1", "output": "4"},
    {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "4", "annotations": []}],
    },
]


async def test_responses_items_round_trip_and_match_the_chat_form() -> None:
    [session] = await load_items(json.dumps(ITEMS))
    assert json.loads(await dump_items([session])) == ITEMS
    messages = json.loads(await dump_chat([session]))
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant"]
    assert messages[1]["tool_calls"][0]["function"]["name"] == "add"


async def test_short_message_items_are_read() -> None:
    [session] = await load_items(json.dumps([{"role": "user", "content": "hi"}]))
    assert [event.message for event in session.events] == ["hi"]


@pytest.mark.parametrize(
    ("loader", "data", "line", "reason"),
    [
        (load_chat, [{"role": "robot", "content": "x"}], 1, "role 'robot'"),
        (load_chat, [CHAT[1], {"role": "tool", "tool_call_id": "zz"}], 2, "'zz' answers no"),
        (load_chat, {"role": "user"}, 1, "expected an array"),
        (load_items, [ITEMS[0], {"type": "reasoning"}], 2, "'reasoning' is not supported"),
        (load_items, [ITEMS[0], ITEMS[2]], 2, "'c1' answers no"),
        (load_items, [{"type": "message", "role": "user", "content": 5}], 1, "content 5"),
    ],
)
async def test_bad_openai_files_name_the_message(
    loader: Any, data: Any, line: int, reason: str
) -> None:
    with pytest.raises(InvalidFileError, match=reason) as raised:
        await loader(json.dumps(data))
    assert raised.value.line == line
