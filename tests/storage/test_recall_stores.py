"""Recall on every store: a prompt recalls the best matches of the same user's other sessions,
never another user's or another tenant's, never the current session's own events, within its
token limits and without repeating what the prompt already holds."""

from __future__ import annotations

from typing import Any

from store_cases import StoreCase

from llm_sessions import Recall, SessionManager
from llm_sessions.prompting._recall import RECALL_HEADER
from llm_sessions.server.tenancy import TenantStore
from llm_sessions.storage import SessionStore
from llm_sessions.tokens import count_chat_message, count_chat_messages

MODEL = "gpt-4o-mini"
SYSTEM = "You are a helpful shop assistant."


async def conversation(store: Any, user: str | None, *texts: str, sid: str | None = None) -> str:
    """A finished conversation of ``user``: each text a user message with a short reply."""
    sm = SessionManager(sid, store=store, user_id=user)
    for text in texts:
        await sm.user_says(text)
        await sm.ai_responds("noted", model=MODEL)
    return sm.session_id


def recalled(prompt: list[dict[str, Any]]) -> str | None:
    """The recall message's text, or None when the prompt has none."""
    found = [m["content"] for m in prompt if str(m.get("content", "")).startswith(RECALL_HEADER)]
    assert len(found) <= 1
    return found[0] if found else None


async def ask(store: Any, user: str | None, text: str, recall: Recall, **options: Any) -> Any:
    sid = options.pop("sid", None)
    sm = SessionManager(sid, store=store, user_id=user, system_prompt=SYSTEM, recall=recall)
    for earlier in options.pop("earlier", ()):
        await sm.user_says(earlier)
        await sm.ai_responds("sure " * 40, model=MODEL)
    await sm.user_says(text)
    return await sm.get_messages_for_llm(model=MODEL, **options)


async def test_recall_brings_the_users_other_sessions_and_no_one_elses(
    store_case: StoreCase,
) -> None:
    store = store_case.open()
    await conversation(store, "alice", "my blue kettle arrived with a cracked lid", "thanks")
    await conversation(store, "alice", "the weather is mild today")
    await conversation(store, "bob", "bob's kettle voucher code is ZX81")
    await conversation(store, None, "an anonymous kettle complaint")
    prompt = await ask(store, "alice", "any news on my kettle?", Recall(k=5))
    assert prompt[0] == {"role": "system", "content": SYSTEM}
    text = recalled(prompt)
    assert text is not None and prompt[1]["content"] == text  # right after the system prompt
    assert "blue kettle arrived with a cracked lid" in text
    assert "ZX81" not in text and "anonymous" not in text and "weather" not in text
    assert prompt[-1] == {"role": "user", "content": "any news on my kettle?"}


async def test_recall_leaves_out_the_current_sessions_own_events(store_case: StoreCase) -> None:
    store = store_case.open()
    await conversation(store, "alice", "the kettle from order 77 is loud")
    earlier = ["kettle descaling tips please", *(f"filler question {n}" for n in range(6))]
    prompt = await ask(store, "alice", "kettle again?", Recall(), earlier=earlier, max_tokens=260)
    everything = " ".join(str(message["content"]) for message in prompt)
    assert "descaling" not in everything  # out of the budget, and not recalled either
    text = recalled(prompt)
    assert text is not None and "order 77" in text


async def test_recall_never_crosses_tenants(store_case: StoreCase) -> None:
    shared = store_case.open()
    acme, globex = TenantStore(shared, "acme"), TenantStore(shared, "globex")
    await conversation(acme, "alice", "acme kettle warranty is two years", sid="acme.old")
    await conversation(globex, "alice", "globex kettle secret plans", sid="globex.old")
    await conversation(shared, "alice", "untenanted kettle notes", sid="loose-old")
    through_view = await ask(acme, "alice", "kettle?", Recall(), sid="acme.new")
    by_prefix = await ask(shared, "alice", "kettle?", Recall(prefix="acme."), sid="acme.newer")
    for prompt in (through_view, by_prefix):
        text = recalled(prompt)
        assert text is not None and "warranty is two years" in text
        assert "globex" not in text and "untenanted" not in text


async def test_recall_keeps_within_its_own_limit_and_the_prompts(store_case: StoreCase) -> None:
    store = store_case.open()
    for n in range(8):
        await conversation(store, "alice", f"kettle problem number {n}: the switch sticks again")
    recall = Recall(k=8, max_tokens=70)
    prompt = await ask(store, "alice", "the kettle switch?", recall)
    text = recalled(prompt)
    assert text is not None
    lines = text.splitlines()[1:]
    assert 1 <= len(lines) < 8
    assert count_chat_message({"role": "system", "content": text}, MODEL) <= 70
    roomy = count_chat_messages(prompt, MODEL).tokens
    tight = await ask(store, "alice", "the kettle switch?", recall, max_tokens=roomy - 10)
    assert count_chat_messages(tight, MODEL).tokens <= roomy - 10
    fewer = recalled(tight)
    assert fewer is not None and len(fewer.splitlines()) < len(text.splitlines())


async def test_recall_does_not_repeat_what_the_prompt_holds(store_case: StoreCase) -> None:
    store = store_case.open()
    await conversation(store, "alice", "does the kettle come in green?")
    await conversation(store, "alice", "the kettle lid is loose")
    await conversation(store, "alice", "the kettle lid is loose")
    prompt = await ask(store, "alice", "does the kettle come in green?", Recall())
    text = recalled(prompt)
    assert text is not None
    assert "green" not in text  # the question being asked, in another session
    assert text.count("the kettle lid is loose") == 1  # the same text in two sessions


async def test_a_session_without_a_user_recalls_nothing(store_case: StoreCase) -> None:
    store: SessionStore = store_case.open()
    await conversation(store, None, "kettle notes without an owner")
    prompt = await ask(store, None, "kettle?", Recall())
    assert recalled(prompt) is None
    assert [m["role"] for m in prompt] == ["system", "user"]
