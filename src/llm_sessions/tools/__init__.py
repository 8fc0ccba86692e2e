"""Tools an LLM can call: a registry, OpenAI schemas from signatures, argument checks, execution.

Register tools with the decorator, hand their schemas to the model, and run the calls it makes::

    from llm_sessions.tools import get_default_registry, register_tool, to_json_value

    @register_tool(name="weather", description="Get weather info")
    class WeatherTool:
        async def execute(self, location: str) -> dict[str, object]:
            return {"location": location, "temperature": 22.5, "condition": "Sunny"}

    registry = get_default_registry()
    tools = registry.to_openai_tools()                   # pass as tools= to the chat API
    tool = registry.get("weather")                       # ToolNotFoundError
    args = tool.parse_arguments('{"location": "London"}')  # ToolArgumentsError subclasses
    result = await tool.execute(args)                    # ToolExecutionError (cause: the original)
    value = to_json_value(result)                        # a JSON value to store

See ``errors`` for the exception hierarchy, ``naming`` for the naming rules, ``schema`` for how
signatures become schemas and ``spec`` for how each kind of tool runs.
"""

from __future__ import annotations

from .arguments import RawArguments, decode_arguments
from .decorator import register_tool
from .errors import (
    AmbiguousToolNameError,
    ArgumentProblem,
    DuplicateToolError,
    ToolArgumentsError,
    ToolArgumentsJSONError,
    ToolArgumentsValidationError,
    ToolExecutionError,
    ToolNotFoundError,
    ToolRegistrationError,
    ToolResultError,
)
from .naming import DEFAULT_NAMESPACE
from .registry import ToolRegistry, get_default_registry
from .results import JsonValue, to_json_value
from .schema import ArgumentsSchema
from .spec import RegisteredTool, ToolKind, build_tool

__all__ = [
    "DEFAULT_NAMESPACE",
    "AmbiguousToolNameError",
    "ArgumentProblem",
    "ArgumentsSchema",
    "DuplicateToolError",
    "JsonValue",
    "RawArguments",
    "RegisteredTool",
    "ToolArgumentsError",
    "ToolArgumentsJSONError",
    "ToolArgumentsValidationError",
    "ToolExecutionError",
    "ToolKind",
    "ToolNotFoundError",
    "ToolRegistrationError",
    "ToolRegistry",
    "ToolResultError",
    "build_tool",
    "decode_arguments",
    "get_default_registry",
    "register_tool",
    "to_json_value",
]
