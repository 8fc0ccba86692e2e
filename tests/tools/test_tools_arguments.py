"""Argument checks: each way a call can be wrong has its own error type, naming field and value."""

import json
from typing import Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from llm_sessions.exceptions import ToolProcessingError
from llm_sessions.tools import (
    AmbiguousToolNameError,
    ToolArgumentsError,
    ToolArgumentsJSONError,
    ToolArgumentsValidationError,
    ToolExecutionError,
    ToolNotFoundError,
    ToolRegistry,
    build_tool,
    decode_arguments,
)

ERROR_TYPES = (
    ToolNotFoundError,
    ToolArgumentsJSONError,
    ToolArgumentsValidationError,
    ToolExecutionError,
)


class Point(BaseModel):
    x: int
    y: int


class Recorder:
    """Counts how often the tool body actually ran."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def forecast(
        self, location: str, days: int = 1, unit: Literal["C", "F"] = "C"
    ) -> dict[str, Any]:
        self.calls.append({"location": location, "days": days, "unit": unit})
        return {"location": location, "days": days}


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def registry(recorder: Recorder) -> ToolRegistry:
    registry = ToolRegistry()
    registry.register(recorder.forecast, name="forecast")
    return registry


def _only_this_type(error: Exception, expected: type[Exception]) -> None:
    assert isinstance(error, ToolProcessingError)
    for other in ERROR_TYPES:
        assert isinstance(error, other) == issubclass(expected, other), other


async def test_unknown_tool(registry: ToolRegistry, recorder: Recorder) -> None:
    with pytest.raises(ToolNotFoundError) as info:
        await registry.call("forcast", '{"location": "Oslo"}')
    _only_this_type(info.value, ToolNotFoundError)
    assert info.value.tool_name == "forcast"
    assert info.value.available == ("default.forecast",)
    assert "'forcast'" in str(info.value) and "default.forecast" in str(info.value)
    assert isinstance(info.value, LookupError)
    assert recorder.calls == []


@pytest.mark.parametrize(
    "raw", ['{"location": "Oslo"', "location=Oslo", "{'location': 'Oslo'}", '{"days": NaN}']
)
async def test_arguments_that_are_not_json(
    registry: ToolRegistry, recorder: Recorder, raw: str
) -> None:
    with pytest.raises(ToolArgumentsJSONError) as info:
        await registry.call("forecast", raw)
    _only_this_type(info.value, ToolArgumentsJSONError)
    assert info.value.tool_name == "forecast"
    assert info.value.raw == raw
    assert "not valid JSON" in str(info.value) and repr(raw) in str(info.value)
    assert recorder.calls == []


async def test_missing_required_argument(registry: ToolRegistry, recorder: Recorder) -> None:
    with pytest.raises(ToolArgumentsValidationError) as info:
        await registry.call("forecast", '{"days": 3}')
    error = info.value
    _only_this_type(error, ToolArgumentsValidationError)
    assert (error.tool_name, error.field, error.value) == ("forecast", "location", None)
    assert [problem.kind for problem in error.problems] == ["missing"]
    assert "missing required argument 'location'" in str(error)
    assert recorder.calls == []


async def test_wrong_type(registry: ToolRegistry, recorder: Recorder) -> None:
    with pytest.raises(ToolArgumentsValidationError) as info:
        await registry.call("forecast", '{"location": "Oslo", "days": "many"}')
    error = info.value
    _only_this_type(error, ToolArgumentsValidationError)
    assert (error.field, error.value, error.problems[0].kind) == ("days", "many", "int_parsing")
    assert "'forecast'" in str(error) and "days='many'" in str(error)
    assert recorder.calls == []


async def test_extra_argument(registry: ToolRegistry, recorder: Recorder) -> None:
    with pytest.raises(ToolArgumentsValidationError) as info:
        await registry.call("forecast", {"location": "Oslo", "hours": 12})
    error = info.value
    _only_this_type(error, ToolArgumentsValidationError)
    assert (error.field, error.value, error.problems[0].kind) == ("hours", 12, "extra_forbidden")
    assert "unexpected argument hours=12" in str(error)
    assert recorder.calls == []


async def test_literal_violation_names_allowed_values(registry: ToolRegistry) -> None:
    with pytest.raises(ToolArgumentsValidationError) as info:
        await registry.call("forecast", {"location": "Oslo", "unit": "K"})
    assert (info.value.field, info.value.value) == ("unit", "K")
    assert "unit='K'" in str(info.value) and "'C' or 'F'" in str(info.value)


async def test_every_problem_is_reported(registry: ToolRegistry) -> None:
    with pytest.raises(ToolArgumentsValidationError) as info:
        await registry.call("forecast", {"days": 1.5, "unit": "K", "extra": True})
    assert sorted((p.field, p.kind) for p in info.value.problems) == [
        ("days", "int_from_float"),
        ("extra", "extra_forbidden"),
        ("location", "missing"),
        ("unit", "literal_error"),
    ]


def test_nested_field_paths() -> None:
    def draw(points: list[Point]) -> int:
        return len(points)

    tool = build_tool(draw)
    with pytest.raises(ToolArgumentsValidationError) as info:
        tool.parse_arguments({"points": [{"x": 1, "y": 2}, {"x": "left", "y": 3}]})
    assert (info.value.field, info.value.value) == ("points[1].x", "left")
    assert "points[1].x='left'" in str(info.value)


@pytest.mark.parametrize(
    ("raw", "kind"), [("[1, 2]", "an array"), ('"Oslo"', "a string"), ("3", "a number")]
)
def test_json_that_is_not_an_object(raw: str, kind: str) -> None:
    tool = build_tool(Recorder().forecast, name="forecast")
    with pytest.raises(ToolArgumentsValidationError) as info:
        tool.parse_arguments(raw)
    assert info.value.field == "(arguments)"
    assert info.value.value == json.loads(raw)
    assert f"must be a JSON object, not {kind}" in str(info.value)


def test_argument_errors_share_a_base_and_are_value_errors() -> None:
    assert issubclass(ToolArgumentsJSONError, ToolArgumentsError)
    assert issubclass(ToolArgumentsValidationError, ToolArgumentsError)
    assert issubclass(ToolArgumentsError, ValueError)
    assert not issubclass(ToolExecutionError, ToolArgumentsError)


def test_parsed_arguments_are_converted_and_defaults_filled() -> None:
    def place(point: Point, label: str = "here", scale: float = 1.0) -> str:
        return label

    tool = build_tool(place)
    parsed = tool.parse_arguments('{"point": {"x": "3", "y": 4}, "scale": 2}')
    assert parsed == {"point": Point(x=3, y=4), "label": "here", "scale": 2.0}
    assert isinstance(parsed["point"], Point)


@pytest.mark.parametrize("raw", [None, "", "   ", b"", "{}", {}])
def test_no_arguments(raw: Any) -> None:
    def ping() -> str:
        return "pong"

    assert build_tool(ping).parse_arguments(raw) == {}


def test_bytes_arguments() -> None:
    tool = build_tool(Recorder().forecast, name="forecast")
    assert tool.parse_arguments(b'{"location": "\xc3\x85s"}')["location"] == "Ås"
    with pytest.raises(ToolArgumentsJSONError, match="not UTF-8"):
        tool.parse_arguments(b'{"location": "\xff"}')


async def test_ambiguous_bare_name_is_a_lookup_error() -> None:
    registry = ToolRegistry()

    def area(side: float) -> float:
        return side * side

    registry.register(area, namespace="square")
    registry.register(area, namespace="circle")
    with pytest.raises(AmbiguousToolNameError) as info:
        await registry.call("area", {"side": 2})
    assert isinstance(info.value, ToolNotFoundError)
    assert info.value.candidates == ("square.area", "circle.area")
    assert "square.area" in str(info.value) and "circle.area" in str(info.value)
    assert await registry.call("circle.area", {"side": 2}) == 4.0


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(st.text(), json_values, max_size=6))
def test_decoding_json_text_and_mapping_agree(arguments: dict[str, Any]) -> None:
    assert decode_arguments(json.dumps(arguments), "t") == arguments
    assert decode_arguments(arguments, "t") == arguments
