"""Every framework integration over a tenant's view of the store: a session id another tenant
owns reads as empty, a write to it is refused with the tenant store's error, and the other
tenant's conversation is left as it was."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.messages import HumanMessage
from llama_index.core.llms import ChatMessage, MessageRole
from pydantic_ai.messages import ModelRequest, UserPromptPart

from llm_sessions.exceptions import InvalidInputError
from llm_sessions.integrations.langchain import LLMSessionsChatMessageHistory
from llm_sessions.integrations.llama_index import LLMSessionsChatStore
from llm_sessions.integrations.llama_index_memory import LLMSessionsMemoryStore
from llm_sessions.integrations.pydantic_ai import PydanticAIHistory
from llm_sessions.server.tenancy import TenantStore

if TYPE_CHECKING:
    from store_cases import StoreCase

Write = Callable[[Any, str, str], Awaitable[None]]
Read = Callable[[Any, str], Awaitable[list[Any]]]


async def _langchain_write(store: Any, session_id: str, text: str) -> None:
    history = LLMSessionsChatMessageHistory(session_id, store=store)
    await history.aadd_messages([HumanMessage(text)])


async def _langchain_read(store: Any, session_id: str) -> list[Any]:
    return await LLMSessionsChatMessageHistory(session_id, store=store).aget_messages()


async def _pydantic_ai_write(store: Any, session_id: str, text: str) -> None:
    await PydanticAIHistory(session_id, store=store).add([ModelRequest([UserPromptPart(text)])])


async def _pydantic_ai_read(store: Any, session_id: str) -> list[Any]:
    return await PydanticAIHistory(session_id, store=store).messages()


async def _chat_store_write(store: Any, session_id: str, text: str) -> None:
    message = ChatMessage(role=MessageRole.USER, content=text)
    await LLMSessionsChatStore(store=store).async_add_message(session_id, message)


async def _chat_store_read(store: Any, session_id: str) -> list[Any]:
    return await LLMSessionsChatStore(store=store).aget_messages(session_id)


async def _memory_store_write(store: Any, session_id: str, text: str) -> None:
    message = ChatMessage(role=MessageRole.USER, content=text)
    await LLMSessionsMemoryStore(store=store).add_message(session_id, message)


async def _memory_store_read(store: Any, session_id: str) -> list[Any]:
    return await LLMSessionsMemoryStore(store=store).get_messages(session_id)


INTEGRATIONS: dict[str, tuple[Write, Read]] = {
    "langchain": (_langchain_write, _langchain_read),
    "pydantic-ai": (_pydantic_ai_write, _pydantic_ai_read),
    "llama-index": (_chat_store_write, _chat_store_read),
    "llama-index-memory": (_memory_store_write, _memory_store_read),
}


@pytest.mark.parametrize("integration", INTEGRATIONS)
async def test_another_tenants_session_reads_empty_and_refuses_writes(
    framework_case: StoreCase, integration: str
) -> None:
    write, read = INTEGRATIONS[integration]
    shared = framework_case.open()
    await write(TenantStore(shared, "globex"), "globex.chat", "globex's secret")
    before = await read(shared, "globex.chat")
    assert len(before) == 1

    acme = TenantStore(shared, "acme")
    assert await read(acme, "globex.chat") == []
    with pytest.raises(InvalidInputError, match=r"session_id='globex\.chat'.*'acme\.'"):
        await write(acme, "globex.chat", "acme's note")
    assert await read(framework_case.open(), "globex.chat") == before
