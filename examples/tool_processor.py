"""The session-aware tool processor: a model reply asks for two tools at once; they run
concurrently, a flaky one is retried, and every call is recorded as a child of the reply that
asked for it, with its attempts, duration and result.

    python examples/tool_processor.py
"""

# expect: weather: ok after 1 attempt(s)
# expect: exchange_rate: ok after 2 attempt(s)
# expect: exchange_rate ✅ success
# expect: It is sunny in Lisbon

from __future__ import annotations

import asyncio
import json

from _model import MODEL, mode, reply

from llm_sessions import SessionManager
from llm_sessions.event_tree import render_event_tree
from llm_sessions.session_aware_tool_processor import SessionAwareToolProcessor
from llm_sessions.tools import ToolRegistry, register_tool

registry = ToolRegistry()
failures_left = {"exchange_rate": 1}


@register_tool(registry=registry)
async def weather(city: str) -> dict[str, str]:
    """Today's weather in a city."""
    return {"city": city, "forecast": "sunny, 24 °C"}


@register_tool(registry=registry)
async def exchange_rate(base: str, quote: str) -> float:
    """How many units of ``quote`` one unit of ``base`` buys (its first call times out)."""
    if failures_left["exchange_rate"]:
        failures_left["exchange_rate"] -= 1
        raise TimeoutError("the rates service did not answer in time")
    return 0.92


def call(call_id: str, name: str, **arguments: object) -> dict[str, object]:
    function = {"name": name, "arguments": json.dumps(arguments)}
    return {"id": call_id, "type": "function", "function": function}


SCRIPTED = {
    "role": "assistant",
    "content": None,
    "tool_calls": [
        call("call_1", "weather", city="Lisbon"),
        call("call_2", "exchange_rate", base="USD", quote="EUR"),
    ],
}


async def main() -> None:
    print(mode())
    sm = SessionManager()
    await sm.user_says("Weather in Lisbon, and how many euros is a dollar?")
    tools = registry.to_openai_tools()
    message, usage = await reply(await sm.get_messages_for_llm(), SCRIPTED, tools=tools)
    processor = await SessionAwareToolProcessor.create(
        sm.session_id, registry=registry, store=sm.store, model=MODEL, max_retries=2
    )
    results = await processor.process_llm_message(message, None, usage=usage)
    for result in results:
        outcome = "ok" if result.error is None else f"failed ({result.error})"
        print(f"{result.tool}: {outcome} after {result.attempts} attempt(s) -> {result.result}")
    await sm.ai_responds("It is sunny in Lisbon; a dollar buys 0.92 euros.", model=MODEL)
    print(render_event_tree(await sm.get_session()))


if __name__ == "__main__":
    asyncio.run(main())
