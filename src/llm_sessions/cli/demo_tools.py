"""The demo's tools and its scripted, offline stand-in for a model.

Nothing here calls a real model: replies are scripted so the demo runs anywhere, and every reply
says so. Token counts and prices are still real (the model's tokenizer and genai-prices).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from ..tools import ToolRegistry, register_tool

__all__ = ["MODEL", "SCRIPT", "ScriptedModel", "build_registry"]

MODEL = "gpt-4o-mini"
_CITIES = {"tokyo": (21.0, "Sunny", 42), "london": (12.5, "Light rain", 81)}


def build_registry() -> ToolRegistry:
    """Three tools: weather (async, fails for unknown cities), calculator, search."""
    registry = ToolRegistry()

    @register_tool(registry=registry)
    async def weather(location: str) -> dict[str, Any]:
        """Current weather for a city."""
        await asyncio.sleep(0.05)
        found = _CITIES.get(location.lower())
        if found is None:
            raise LookupError(f"no weather station for {location!r}")
        temperature, condition, humidity = found
        return {
            "location": location,
            "temperature_c": temperature,
            "condition": condition,
            "humidity": humidity,
        }

    @register_tool(registry=registry)
    def calculator(operation: str, a: float, b: float) -> dict[str, Any]:
        """Basic arithmetic: add, subtract, multiply or divide a and b."""
        results = {
            "add": a + b,
            "subtract": a - b,
            "multiply": a * b,
            "divide": a / b if b else float("inf"),
        }
        return {"operation": operation, "a": a, "b": b, "result": round(results[operation], 6)}

    calls = {"search": 0}

    @register_tool(registry=registry)
    async def search(query: str) -> dict[str, Any]:
        """Search a small offline index (its first call times out upstream, once)."""
        calls["search"] += 1
        await asyncio.sleep(0.03)
        if calls["search"] == 1:
            raise TimeoutError("search index did not answer in time")
        return {"query": query, "results": [f"{query}: overview", f"{query}: latest news"]}

    return registry


def _call(call_id: str, name: str, **arguments: Any) -> dict[str, Any]:
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments)},
    }


def _tool_reply(*calls: dict[str, Any]) -> dict[str, Any]:
    return {"role": "assistant", "content": None, "tool_calls": list(calls)}


#: Each turn: the user's message, the model's first reply (tool calls), a corrected reply if
#: the first names no valid tool, and the final answer (from ``model``, default ``MODEL``; the
#: last turn's model has no public price, to show how unpriced usage is reported).
SCRIPT: list[dict[str, Any]] = [
    {
        "user": "What's the weather in Tokyo, and what is 15.5 × 23.2?",
        "reply": _tool_reply(
            _call("call_w1", "weather", location="Tokyo"),
            _call("call_c1", "calculator", operation="multiply", a=15.5, b=23.2),
        ),
        "final": "Tokyo is sunny at 21 °C, and 15.5 × 23.2 = 359.6.",
    },
    {
        "user": "And the weather in Atlantis? Also find news on renewable energy.",
        "reply": _tool_reply(
            _call("call_w2", "weather", location="Atlantis"),
            _call("call_s1", "search", query="renewable energy"),
        ),
        "final": "I found two renewable-energy results, but there is no weather station in "
        "Atlantis.",
    },
    {
        "user": "Convert 100 USD to EUR at a rate of 0.92, please.",
        "reply": _tool_reply(_call("call_x1", "currency_convert", amount=100, to="EUR")),
        "retry": _tool_reply(_call("call_c2", "calculator", operation="multiply", a=100, b=0.92)),
        "final": "100 USD is 92 EUR at that rate.",
        "model": "local-llama-3-8b",
    },
]


class ScriptedModel:
    """Plays the model's side of ``SCRIPT``; asked again, it returns the corrected reply."""

    name = MODEL

    def __init__(self, turn: dict[str, Any]) -> None:
        self._turn = turn

    async def retry(self, prompt: Any) -> dict[str, Any]:
        """The reply to the processor's request for a valid tool call."""
        reply: dict[str, Any] = self._turn.get("retry") or self._turn["reply"]
        return reply
