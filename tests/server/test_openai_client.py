"""The Conversations routes, driven by the real ``openai`` client against a server process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import openai
import pytest
from openai import AsyncOpenAI
from openai.types.conversations import (
    Conversation,
    ConversationDeletedResource,
    ConversationItemList,
    Message,
)
from server_helpers import KEY_A, KEY_B


@pytest.fixture
async def client_a(keyed_server: str) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(base_url=f"{keyed_server}/v1", api_key=KEY_A, max_retries=0) as client:
        yield client


@pytest.fixture
async def client_b(keyed_server: str) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(base_url=f"{keyed_server}/v1", api_key=KEY_B, max_retries=0) as client:
        yield client


def _texts(items: list[Message]) -> list[str]:
    return [part.text for item in items for part in item.content]  # type: ignore[union-attr]


async def test_create_retrieve_update_and_delete_a_conversation(client_a: AsyncOpenAI) -> None:
    created = await client_a.conversations.create(
        metadata={"topic": "weather"},
        items=[{"type": "message", "role": "user", "content": "Hello!"}],
    )
    Conversation.model_validate(created.model_dump())
    assert created.object == "conversation"
    assert created.metadata == {"topic": "weather"}

    fetched = await client_a.conversations.retrieve(created.id)
    assert (fetched.id, fetched.created_at, fetched.metadata) == (
        created.id,
        created.created_at,
        {"topic": "weather"},
    )
    updated = await client_a.conversations.update(created.id, metadata={"topic": "rain"})
    assert updated.metadata == {"topic": "rain"}
    assert (await client_a.conversations.retrieve(created.id)).metadata == {"topic": "rain"}

    deleted = await client_a.conversations.delete(created.id)
    ConversationDeletedResource.model_validate(deleted.model_dump())
    assert deleted.deleted and deleted.id == created.id
    with pytest.raises(openai.NotFoundError):
        await client_a.conversations.retrieve(created.id)


async def test_items_are_appended_listed_with_auto_pagination_and_retrieved(
    client_a: AsyncOpenAI,
) -> None:
    conversation = await client_a.conversations.create(
        items=[{"type": "message", "role": "system", "content": "Be brief."}]
    )
    for batch in range(3):
        added = await client_a.conversations.items.create(
            conversation.id,
            items=[
                {"type": "message", "role": "user", "content": f"question {batch}"},
                {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": f"answer {batch}"}],
                },
            ],
        )
        ConversationItemList.model_validate(added.model_dump())
        assert [item.role for item in added.data] == ["user", "assistant"]  # type: ignore[union-attr]

    ascending = [
        item
        async for item in client_a.conversations.items.list(conversation.id, limit=2, order="asc")
    ]
    expected = ["Be brief."] + [text for n in range(3) for text in (f"question {n}", f"answer {n}")]
    assert _texts(ascending) == expected  # type: ignore[arg-type]
    for item in ascending:
        Message.model_validate(item.model_dump())

    descending = [
        item async for item in client_a.conversations.items.list(conversation.id, limit=3)
    ]
    assert _texts(descending) == expected[::-1]  # type: ignore[arg-type]

    first_page = await client_a.conversations.items.list(conversation.id, limit=4, order="asc")
    assert first_page.has_more is True
    assert len(first_page.data) == 4

    one = await client_a.conversations.items.retrieve(
        ascending[2].id, conversation_id=conversation.id
    )
    assert one.id == ascending[2].id
    assert _texts([one]) == ["answer 0"]  # type: ignore[list-item]

    after_delete = await client_a.conversations.items.delete(
        ascending[2].id, conversation_id=conversation.id
    )
    Conversation.model_validate(after_delete.model_dump())
    assert after_delete.id == conversation.id
    remaining = [item async for item in client_a.conversations.items.list(conversation.id)]
    assert _texts(remaining) == [text for text in expected if text != "answer 0"][::-1]  # type: ignore[arg-type]
    with pytest.raises(openai.NotFoundError):
        await client_a.conversations.items.retrieve(
            ascending[2].id, conversation_id=conversation.id
        )


async def test_function_calls_round_trip(client_a: AsyncOpenAI) -> None:
    conversation = await client_a.conversations.create()
    await client_a.conversations.items.create(
        conversation.id,
        items=[
            {
                "type": "function_call",
                "call_id": "call_1",
                "name": "weather",
                "arguments": '{"city": "Paris"}',
            },
            {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
        ],
    )
    items = [item async for item in client_a.conversations.items.list(conversation.id, order="asc")]
    assert [item.type for item in items] == ["function_call", "function_call_output"]
    assert items[0].name == "weather" and items[0].arguments == '{"city": "Paris"}'  # type: ignore[union-attr]
    assert items[1].output == "sunny"  # type: ignore[union-attr]


async def test_another_tenant_gets_404_for_every_conversation_route(
    client_a: AsyncOpenAI, client_b: AsyncOpenAI
) -> None:
    conversation = await client_a.conversations.create(
        items=[{"type": "message", "role": "user", "content": "secret"}]
    )
    item_id = (await client_a.conversations.items.list(conversation.id)).data[0].id
    attempts = [
        client_b.conversations.retrieve(conversation.id),
        client_b.conversations.update(conversation.id, metadata={"x": "y"}),
        client_b.conversations.items.list(conversation.id),
        client_b.conversations.items.retrieve(item_id, conversation_id=conversation.id),
        client_b.conversations.items.create(
            conversation.id, items=[{"type": "message", "role": "user", "content": "hi"}]
        ),
        client_b.conversations.items.delete(item_id, conversation_id=conversation.id),
        client_b.conversations.delete(conversation.id),
    ]
    for attempt in attempts:
        with pytest.raises(openai.NotFoundError) as raised:
            await attempt
        assert raised.value.code == "not_found"
    still = [item async for item in client_a.conversations.items.list(conversation.id)]
    assert _texts(still) == ["secret"]  # type: ignore[arg-type]


async def test_a_wrong_key_is_refused(keyed_server: str) -> None:
    async with AsyncOpenAI(
        base_url=f"{keyed_server}/v1", api_key="not-a-configured-key", max_retries=0
    ) as stranger:
        with pytest.raises(openai.AuthenticationError) as raised:
            await stranger.conversations.create()
    assert raised.value.code == "invalid_api_key"
