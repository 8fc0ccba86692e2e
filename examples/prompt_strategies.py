"""Prompt strategies under a token budget: the same long session turned into the messages for
the next call five ways, each fitted to 200 tokens (newest kept first, tool calls kept with
their results).

    python examples/prompt_strategies.py
"""

# expect: strategy minimal
# expect: strategy conversation
# expect: strategy tool
# expect: every prompt within 200 tokens: True

from __future__ import annotations

import asyncio

from llm_sessions import SessionManager
from llm_sessions.prompting.budget import prompt_tokens
from llm_sessions.session_prompt_builder import PromptStrategy, build_prompt_from_session

BUDGET = 200
MODEL = "gpt-4o-mini"
CITIES = ["Lisbon", "Oslo", "Nairobi", "Lima", "Hanoi", "Perth"]


async def long_session() -> SessionManager:
    sm = SessionManager()
    await sm.user_says("Plan a trip: I want the warmest of a few cities this week.")
    for city in CITIES:
        await sm.user_says(f"What's the weather in {city}?")
        await sm.ai_responds(f"Let me check {city}.", model=MODEL)
        await sm.tool_used("weather", {"city": city}, {"city": city, "temperature_c": len(city)})
        await sm.ai_responds(f"{city} is {len(city)} °C today, with a light breeze.", model=MODEL)
    return sm


async def main() -> None:
    sm = await long_session()
    session = await sm.get_session()
    print(f"the session: {len(session.events)} events, {session.total_tokens} tokens")
    fits = True
    for strategy in PromptStrategy:
        messages = await build_prompt_from_session(session, strategy, max_tokens=BUDGET)
        tokens = prompt_tokens(messages, MODEL)
        fits = fits and tokens <= BUDGET
        roles = " ".join(message["role"] for message in messages)
        print(f"strategy {strategy.value:<13} {len(messages):>2} messages {tokens:>4} tokens")
        print(f"    {roles}")
    print(f"every prompt within {BUDGET} tokens: {fits}")


if __name__ == "__main__":
    asyncio.run(main())
