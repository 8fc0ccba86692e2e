"""Looking tools up by bare and qualified names, listing them, exporting them."""

import pytest

from llm_sessions.tools import (
    AmbiguousToolNameError,
    ToolNotFoundError,
    ToolRegistry,
    get_default_registry,
)


def weather(location: str) -> str:
    return f"sun in {location}"


def add(a: int, b: int) -> int:
    return a + b


def area(side: float) -> float:
    return side * side


@pytest.fixture
def registry() -> ToolRegistry:
    registry = ToolRegistry()
    registry.register(weather)
    registry.register(add, namespace="math")
    registry.register(area, namespace="geometry.square")
    return registry


def test_lookup_by_bare_name_falls_back_across_namespaces(registry: ToolRegistry) -> None:
    assert registry.get("weather").target is weather
    assert registry.get("add").target is add
    assert registry.get("area").qualified_name == "geometry.square.area"


def test_lookup_by_qualified_name_and_by_namespace(registry: ToolRegistry) -> None:
    assert registry.get("math.add").target is add
    assert registry.get("add", namespace="math").target is add
    assert registry.get("default.weather").target is weather
    assert registry.get("geometry.square.area").target is area
    with pytest.raises(ToolNotFoundError, match=r"'default\.add'"):
        registry.get("add", namespace="default")
    with pytest.raises(ToolNotFoundError, match=r"'text\.add'"):
        registry.get("text.add")


def test_default_namespace_wins_over_others_for_a_bare_name(registry: ToolRegistry) -> None:
    def other_weather(location: str) -> str:
        return "rain"

    registry.register(other_weather, name="weather", namespace="backup")
    assert registry.get("weather").target is weather
    assert registry.get("backup.weather").target is other_weather


def test_ambiguous_bare_name_outside_default(registry: ToolRegistry) -> None:
    registry.register(add, namespace="alt")
    with pytest.raises(AmbiguousToolNameError) as info:
        registry.get("add")
    assert info.value.candidates == ("math.add", "alt.add")
    assert "add" not in registry
    assert "math.add" in registry


def test_listing(registry: ToolRegistry) -> None:
    assert registry.list_tools() == [
        ("default", "weather"),
        ("math", "add"),
        ("geometry.square", "area"),
    ]
    assert registry.list_tools("math") == [("math", "add")]
    assert registry.list_namespaces() == ["default", "geometry.square", "math"]
    assert len(registry) == 3
    assert [tool.name for tool in registry] == ["weather", "add", "area"]
    assert "weather" in registry and "nothing" not in registry and 3 not in registry


def test_unregister_and_clear(registry: ToolRegistry) -> None:
    removed = registry.unregister("math.add")
    assert removed.target is add
    assert registry.list_tools() == [("default", "weather"), ("geometry.square", "area")]
    with pytest.raises(ToolNotFoundError):
        registry.unregister("add")
    registry.clear()
    assert registry.list_tools() == []


def test_export_by_namespace_and_names(registry: ToolRegistry) -> None:
    names = [entry["function"]["name"] for entry in registry.to_openai_tools()]
    assert names == ["weather", "add", "area"]
    assert [e["function"]["name"] for e in registry.to_openai_tools(namespace="math")] == ["add"]
    picked = registry.to_openai_tools(names=["area", "weather", "area"])
    assert [entry["function"]["name"] for entry in picked] == ["area", "weather"]
    with pytest.raises(ToolNotFoundError):
        registry.to_openai_tools(names=["missing"])


def test_export_refuses_two_tools_the_llm_could_not_tell_apart(registry: ToolRegistry) -> None:
    registry.register(add, namespace="alt")
    with pytest.raises(AmbiguousToolNameError, match="namespace="):
        registry.to_openai_tools()
    assert [e["function"]["name"] for e in registry.to_openai_tools(namespace="alt")] == ["add"]


async def test_registry_call_shortcut(registry: ToolRegistry) -> None:
    assert await registry.call("add", '{"a": 1, "b": 2}') == 3
    assert await registry.call("add", {"a": 1, "b": 2}, namespace="math") == 3


def test_default_registry_is_one_process_wide_instance() -> None:
    assert get_default_registry() is get_default_registry()
    assert isinstance(get_default_registry(), ToolRegistry)
    assert ToolRegistry() is not get_default_registry()
