"""A session and its events: user messages, model replies and a tool call, read back as a
conversation, as the messages to send next, and as statistics.

    python examples/basic_session.py
"""

# expect: user: What's 15.5 × 23.2?
# expect: 1 tool call(s), 2 user messages
# expect: messages for the next call: 5

from __future__ import annotations

import asyncio

from _model import MODEL, mode, say

from llm_sessions import SessionManager


async def main() -> None:
    print(mode())
    sm = SessionManager()  # an in-memory store; see stores_by_url.py for durable ones
    await sm.user_says("What's 15.5 × 23.2?")
    answer, usage = await say(await sm.get_messages_for_llm(), "15.5 × 23.2 = 359.6.")
    await sm.ai_responds(answer, model=MODEL, provider="openai", usage=usage)
    await sm.tool_used("calculator", {"operation": "multiply", "a": 15.5, "b": 23.2}, 359.6)

    await sm.user_says("And divided by 4?")
    answer, usage = await say(await sm.get_messages_for_llm(), "359.6 / 4 = 89.9.")
    await sm.ai_responds(answer, model=MODEL, provider="openai", usage=usage)

    for message in await sm.get_conversation():
        print(f"{message['role']}: {message['content']}")
    stats = await sm.get_stats()
    print(
        f"{stats['tool_calls']} tool call(s), {stats['user_messages']} user messages, "
        f"{stats['total_tokens']} tokens, ${stats['estimated_cost']:.6f}"
    )
    print(f"messages for the next call: {len(await sm.get_messages_for_llm())}")


if __name__ == "__main__":
    asyncio.run(main())
