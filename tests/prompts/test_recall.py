"""The recall policy: its checks, the query it makes, and what a prompt costs with it on or off
(one search per prompt with it, none without)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llm_sessions import Recall, SessionManager
from llm_sessions.exceptions import InvalidInputError, InvalidSessionOperation
from llm_sessions.models import EventSource, SessionEvent
from llm_sessions.prompting._recall import RECALL_HEADER, recall_query
from llm_sessions.storage import InMemorySessionStore, SearchPage, open_store
from llm_sessions.storage.encryption import generate_key


@pytest.mark.parametrize(
    ("kwargs", "field", "shown", "limit"),
    [
        ({"k": 0}, "k", "0", "from 1 to 50"),
        ({"k": 51}, "k", "51", "from 1 to 50"),
        ({"k": True}, "k", "True", "from 1 to 50"),
        ({"k": 2.5}, "k", "2.5", "from 1 to 50"),
        ({"max_tokens": 0}, "max_tokens", "0", ">= 1"),
        ({"max_tokens": "500"}, "max_tokens", "'500'", ">= 1"),
        ({"scope": "tenant"}, "scope", "'tenant'", "one of 'user'"),
        ({"scope": None}, "scope", "None", "one of 'user'"),
        ({"prefix": 7}, "prefix", "7", "at most"),
    ],
)
def test_bad_recall_settings_are_named(
    kwargs: dict[str, Any], field: str, shown: str, limit: str
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        Recall(**kwargs)
    assert raised.value.field == field
    assert f"{field}={shown}" in str(raised.value) and limit in str(raised.value)


def test_a_manager_takes_only_a_recall_policy() -> None:
    with pytest.raises(InvalidInputError, match=r"recall='yes'.*must be a Recall or None"):
        SessionManager(recall="yes")  # type: ignore[arg-type]


def user(text: Any) -> SessionEvent[Any]:
    return SessionEvent(message=text, source=EventSource.USER)


def test_the_query_is_the_newest_user_messages_uncommon_words() -> None:
    events = [user("the first question"), user("Where is MY blue-kettle, and the refund?")]
    events.append(SessionEvent(message="a reply about kettles", source=EventSource.LLM))
    assert recall_query(events) == "blue kettle refund"
    assert recall_query([user("what is it?")]) is None
    assert recall_query([user("!!! ??? 👍")]) is None
    assert recall_query([]) is None


def test_a_long_message_gives_its_32_longest_words_within_the_query_limit() -> None:
    words = [f"w{n:02d}" + "x" * (n % 7) for n in range(60)]
    query = recall_query([user(" ".join([*words, "z" * 500]))])
    assert query is not None
    chosen = query.split()
    assert len(chosen) == 32 and len(query) <= 1000
    assert min(map(len, chosen)) >= max(len(w) for w in words if w not in chosen)
    assert "z" * 500 not in chosen


class CountingStore(InMemorySessionStore):
    """A memory store that counts its searches."""

    def __init__(self) -> None:
        super().__init__()
        self.searches: list[dict[str, Any]] = []

    async def search(self, query: str, *args: Any, **kwargs: Any) -> SearchPage:
        self.searches.append({"query": query, **kwargs})
        return await super().search(query, *args, **kwargs)


async def test_one_search_per_prompt_with_recall_and_none_without() -> None:
    store = CountingStore()
    old = SessionManager(store=store, user_id="alice")
    await old.user_says("my kettle leaks")
    plain = SessionManager(store=store, user_id="alice")
    await plain.user_says("my kettle?")
    await plain.get_messages_for_llm()
    await plain.get_messages_for_llm(max_tokens=500)
    assert store.searches == []
    with_recall = SessionManager(store=store, user_id="alice", recall=Recall(k=3))
    await with_recall.user_says("my kettle?")
    prompt = await with_recall.get_messages_for_llm(max_tokens=500)
    assert prompt[0]["content"].startswith(RECALL_HEADER)
    asked = {"query": "kettle", "where": {"user_id": "alice"}, "limit": 22, "prefix": ""}
    assert store.searches == [asked]
    await with_recall.get_messages_for_llm()
    assert len(store.searches) == 2


async def test_recall_on_an_encrypted_store_names_the_reason(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'secret.db'}", encryption_key=generate_key())
    sm = SessionManager(store=store, user_id="alice", recall=Recall())
    await sm.user_says("my kettle?")
    with pytest.raises(InvalidSessionOperation, match="search_index='plaintext'"):
        await sm.get_messages_for_llm()
    await store.close()


class DictStore:
    """A custom store: only the four methods of the contract, no search."""

    def __init__(self) -> None:
        self.sessions: dict[str, Any] = {}

    async def get(self, session_id: str) -> Any:
        return self.sessions.get(session_id)

    async def save(self, session: Any) -> None:
        self.sessions[session.id] = session

    async def delete(self, session_id: str) -> bool:
        return self.sessions.pop(session_id, None) is not None

    async def list_sessions(self, prefix: str = "") -> list[str]:
        return [key for key in self.sessions if key.startswith(prefix)]


async def test_recall_on_a_store_without_search_names_the_store() -> None:
    sm = SessionManager(store=DictStore(), user_id="alice", recall=Recall())
    await sm.user_says("my kettle?")
    with pytest.raises(InvalidSessionOperation, match="recall: the store DictStore cannot"):
        await sm.get_messages_for_llm()
    plain = SessionManager(store=DictStore(), user_id="alice")
    await plain.user_says("my kettle?")
    assert await plain.get_messages_for_llm() == [{"role": "user", "content": "my kettle?"}]


async def test_a_fork_keeps_the_recall_policy() -> None:
    store = InMemorySessionStore()
    old = SessionManager(store=store, user_id="alice")
    await old.user_says("the kettle whistles")
    sm = SessionManager(store=store, user_id="alice", recall=Recall(k=1))
    await sm.user_says("kettle noise?")
    fork = await sm.fork()
    prompt = await fork.get_messages_for_llm()
    assert prompt[0]["content"].startswith(RECALL_HEADER)
    assert "the kettle whistles" in prompt[0]["content"]
    assert prompt[1:] == [{"role": "user", "content": "kettle noise?"}]


async def test_earlier_segments_are_recalled_unless_their_summary_holds_the_text() -> None:
    store = InMemorySessionStore()
    options: dict[str, Any] = {"infinite_context": True, "max_turns_per_segment": 2}
    sm = SessionManager(store=store, user_id="alice", recall=Recall(), **options)
    texts = ["my kettle is the blue one", "weather", "more weather", "lunch", "dinner"]
    for text in [*texts, "which kettle do I own?"]:
        await sm.user_says(text)
        await sm.ai_responds("ok", model="gpt-4o-mini")
    assert len(await sm.get_session_chain()) == 3
    prompt = await sm.get_messages_for_llm()
    assert "my kettle is the blue one" in prompt[0]["content"]  # the summary of segment 1
    assert not any(m["content"].startswith(RECALL_HEADER) for m in prompt)
    await sm.ai_responds("You own the blue one, and the kettle descaler arrived.")
    await sm.user_says("kettle descaler?")
    fresh = SessionManager(store=store, user_id="alice", recall=Recall())
    await fresh.user_says("the descaler for my kettle")
    recalled = (await fresh.get_messages_for_llm())[0]["content"]
    assert recalled.startswith(RECALL_HEADER) and "kettle descaler arrived" in recalled
