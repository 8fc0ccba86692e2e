"""Registering tools: the decorator's forms, names, descriptions, and what it refuses.

No ``from __future__ import annotations`` here: tools defined inside tests refer to local types,
which only resolve when annotations are evaluated at definition time.
"""

import functools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from llm_sessions.exceptions import SessionManagerError
from llm_sessions.tools import (
    DuplicateToolError,
    ToolRegistrationError,
    ToolRegistry,
    build_tool,
    get_default_registry,
    register_tool,
)


@pytest.fixture
def registry() -> ToolRegistry:
    return ToolRegistry()


async def test_seed_weather_tool_class_registers_and_runs(registry: ToolRegistry) -> None:
    # The seed's "Tool Processing with Registry" example, renamed.
    @register_tool(
        name="weather", namespace="default", description="Get weather info", registry=registry
    )
    class WeatherTool:
        async def execute(self, location: str) -> dict[str, Any]:
            return {"location": location, "temperature": 22.5, "condition": "Sunny"}

    assert registry.list_tools() == [("default", "weather")]
    tool = registry.get("weather")
    assert tool.kind == "class"
    assert tool.is_async
    assert tool.description == "Get weather info"
    result = await tool.call('{"location": "London"}')
    assert result == {"location": "London", "temperature": 22.5, "condition": "Sunny"}
    # The decorated class is still an ordinary, usable class.
    assert await WeatherTool().execute("Paris") == {
        "location": "Paris",
        "temperature": 22.5,
        "condition": "Sunny",
    }


async def test_sync_function_registers_and_runs(registry: ToolRegistry) -> None:
    @register_tool(registry=registry)
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    tool = registry.get("add")
    assert (tool.kind, tool.is_async, tool.description) == ("function", False, "Add two integers.")
    assert await tool.call({"a": 2, "b": 40}) == 42
    assert add(1, 2) == 3


async def test_async_function_registers_and_runs(registry: ToolRegistry) -> None:
    @register_tool(namespace="text", registry=registry)
    async def shout(text: str, times: int = 1) -> str:
        return text.upper() * times

    tool = registry.get("text.shout")
    assert (tool.kind, tool.is_async) == ("function", True)
    assert await tool.call('{"text": "hi", "times": 2}') == "HIHI"
    assert await shout("a") == "A"


async def test_class_with_kwargs_execute_receives_all_arguments(registry: ToolRegistry) -> None:
    @register_tool(registry=registry)
    class EchoTool:
        """Echo the arguments back."""

        async def execute(self, **kwargs: Any) -> dict[str, Any]:
            return kwargs

    tool = registry.get("echo")
    assert tool.description == "Echo the arguments back."
    assert await tool.call('{"x": 1, "y": [true, null]}') == {"x": 1, "y": [True, None]}
    assert tool.parameters_schema == {
        "type": "object",
        "properties": {},
        "additionalProperties": True,
    }


async def test_class_with_sync_execute_and_staticmethod(registry: ToolRegistry) -> None:
    @register_tool(registry=registry)
    class Multiply:
        def execute(self, a: float, b: float) -> float:
            return a * b

    @register_tool(registry=registry)
    class Negate:
        @staticmethod
        def execute(x: int) -> int:
            return -x

    assert registry.get("multiply").is_async is False
    assert await registry.call("multiply", {"a": 1.5, "b": 4}) == 6.0
    assert await registry.call("negate", {"x": 3}) == -3
    assert registry.get("negate").parameters_schema["required"] == ["x"]


async def test_class_is_instantiated_for_every_call(registry: ToolRegistry) -> None:
    instances: list[object] = []

    @register_tool(registry=registry)
    class CounterTool:
        def __init__(self) -> None:
            self.calls = 0
            instances.append(self)

        async def execute(self) -> int:
            self.calls += 1
            return self.calls

    assert [await registry.call("counter", None) for _ in range(3)] == [1, 1, 1]
    assert len({id(instance) for instance in instances}) == 3


async def test_registered_instance_is_shared(registry: ToolRegistry) -> None:
    class Counter:
        def __init__(self, start: int) -> None:
            self.value = start

        def execute(self, step: int = 1) -> int:
            self.value += step
            return self.value

    counter = Counter(10)
    tool = registry.register(counter, name="count")
    assert tool.kind == "instance"
    assert await tool.call({}) == 11
    assert await tool.call({"step": 5}) == 16
    assert counter.value == 16


async def test_partial_and_callable_object(registry: ToolRegistry) -> None:
    def power(base: int, exponent: int) -> int:
        """Raise base to exponent."""
        return int(base**exponent)

    class Greeter:
        """Greet someone."""

        async def __call__(self, who: str) -> str:
            return f"hello {who}"

    square = registry.register(functools.partial(power, exponent=2), name="square")
    greeter = registry.register(Greeter())
    assert square.description == "Raise base to exponent."
    assert await square.call({"base": 7}) == 49
    assert (greeter.name, greeter.is_async, greeter.description) == (
        "greeter",
        True,
        "Greet someone.",
    )
    assert await greeter.call({"who": "bob"}) == "hello bob"


def test_bare_decorator_registers_in_default_registry() -> None:
    default = get_default_registry()

    @register_tool
    def tests_tools_bare_probe(x: int) -> int:
        return x

    try:
        assert default.get("tests_tools_bare_probe").target is tests_tools_bare_probe
        assert tests_tools_bare_probe(5) == 5
    finally:
        default.unregister("tests_tools_bare_probe")
    assert "tests_tools_bare_probe" not in default


def test_decorator_returns_the_original_object(registry: ToolRegistry) -> None:
    def original(x: int) -> int:
        return x

    class Untouched:
        def execute(self) -> None:
            return None

    assert register_tool(registry=registry)(original) is original
    assert register_tool(registry=registry)(Untouched) is Untouched
    assert registry.list_tools() == [("default", "original"), ("default", "untouched")]
    assert not hasattr(original, "__wrapped__")


@pytest.mark.parametrize(
    ("class_name", "expected"),
    [
        ("WeatherTool", "weather"),
        ("GetForecast", "get_forecast"),
        ("HTTPFetchTool", "http_fetch"),
        ("Calculator", "calculator"),
        ("Tool", "tool"),
    ],
)
def test_default_class_names(class_name: str, expected: str) -> None:
    cls = type(class_name, (), {"execute": lambda self: None})
    assert build_tool(cls).name == expected


def test_description_defaults_to_first_paragraph_and_explicit_wins() -> None:
    def documented(x: int) -> int:
        """Look something up
        across two lines.

        This second paragraph is left out.
        """
        return x

    class Documented:
        async def execute(self, x: int) -> int:
            """From execute, since the class has no docstring."""
            return x

    def undocumented() -> None:
        return None

    assert build_tool(documented).description == "Look something up across two lines."
    assert build_tool(Documented).description == "From execute, since the class has no docstring."
    assert build_tool(undocumented).description == ""
    assert build_tool(documented, description="Explicit").description == "Explicit"


def test_duplicate_registration_names_the_tool(registry: ToolRegistry) -> None:
    def first(x: int) -> int:
        return x

    def second(x: int) -> int:
        return -x

    registry.register(first, name="dup", namespace="math")
    with pytest.raises(DuplicateToolError, match=r"'dup'.*'math'") as info:
        registry.register(second, name="dup", namespace="math")
    assert (info.value.namespace, info.value.name) == ("math", "dup")
    assert isinstance(info.value, ToolRegistrationError)
    assert isinstance(info.value, SessionManagerError)
    assert registry.get("math.dup").target is first  # the first registration is untouched

    registry.register(second, name="dup", namespace="other")  # another namespace is fine
    registry.register(second, name="dup", namespace="math", replace=True)
    assert registry.get("math.dup").target is second


def test_duplicate_via_decorator(registry: ToolRegistry) -> None:
    @register_tool(name="same", registry=registry)
    def one() -> int:
        return 1

    with pytest.raises(DuplicateToolError, match="same"):

        @register_tool(name="same", registry=registry)
        def two() -> int:
            return 2


@pytest.mark.parametrize("bad_name", ["", "has space", "dotted.name", "x" * 65, "ünï"])
def test_invalid_names_are_refused(registry: ToolRegistry, bad_name: str) -> None:
    def tool() -> None:
        return None

    with pytest.raises(ToolRegistrationError, match="Tool name"):
        registry.register(tool, name=bad_name)
    assert len(registry) == 0


@pytest.mark.parametrize("bad_namespace", ["", "a..b", ".a", "a b", "n" * 65])
def test_invalid_namespaces_are_refused(registry: ToolRegistry, bad_namespace: str) -> None:
    def tool() -> None:
        return None

    with pytest.raises(ToolRegistrationError, match="namespace"):
        registry.register(tool, namespace=bad_namespace)
    assert len(registry) == 0


def test_lambda_needs_an_explicit_name(registry: ToolRegistry) -> None:
    with pytest.raises(ToolRegistrationError, match="<lambda>"):
        registry.register(lambda: 1)
    assert registry.register(lambda: 1, name="one").name == "one"


def test_unusable_targets_are_refused(registry: ToolRegistry) -> None:
    class NoExecute:
        pass

    class NeedsArguments:
        def __init__(self, api_key: str) -> None:
            self.api_key = api_key

        def execute(self) -> str:
            return self.api_key

    def generator() -> Iterator[int]:
        yield 1

    async def async_generator() -> AsyncIterator[int]:
        yield 1

    with pytest.raises(ToolRegistrationError, match="no execute method"):
        registry.register(NoExecute)
    with pytest.raises(ToolRegistrationError, match="api_key"):
        registry.register(NeedsArguments)
    with pytest.raises(ToolRegistrationError, match="generator"):
        registry.register(generator)
    with pytest.raises(ToolRegistrationError, match="generator"):
        registry.register(async_generator)
    with pytest.raises(ToolRegistrationError, match="cannot be a tool"):
        registry.register(42)
    assert len(registry) == 0
    # An instance of the class that needs arguments is fine.
    assert registry.register(NeedsArguments("k"), name="needs").kind == "instance"


def test_unresolvable_type_hint_is_a_registration_error(registry: ToolRegistry) -> None:
    def uses_missing_type(x: "NotDefinedAnywhere") -> None:  # type: ignore[name-defined]  # noqa: F821
        return None

    with pytest.raises(ToolRegistrationError, match="NotDefinedAnywhere"):
        registry.register(uses_missing_type)


class Opaque:
    """A plain class pydantic has no schema for."""


def test_type_without_schema_is_a_registration_error(registry: ToolRegistry) -> None:
    def takes_opaque(thing: Opaque) -> None:
        return None

    with pytest.raises(ToolRegistrationError, match=r"argument schema for tool 'takes_opaque'"):
        registry.register(takes_opaque)
    assert len(registry) == 0
