"""Running tools: sync tools off the loop, errors from the tool itself, JSON-friendly results."""

import asyncio
import dataclasses
import datetime
import enum
import threading
import uuid
from typing import Any

import pytest
from pydantic import BaseModel

from llm_sessions.exceptions import InvalidInputError, ToolProcessingError
from llm_sessions.tools import (
    ToolArgumentsError,
    ToolExecutionError,
    ToolRegistry,
    ToolResultError,
    build_tool,
    to_json_value,
)


async def test_sync_function_runs_off_the_loop_thread_without_blocking_it() -> None:
    started = threading.Event()
    release = threading.Event()

    def blocking() -> int:
        started.set()
        # If this ran on the loop thread, nothing could set `release` and this would time out.
        if not release.wait(5):
            raise TimeoutError("the event loop was blocked")
        return threading.get_ident()

    tool = build_tool(blocking)
    task = asyncio.create_task(tool.call(None))
    assert await asyncio.to_thread(started.wait, 5)  # awaiting keeps the loop free
    release.set()  # the loop still runs while the tool blocks its thread
    worker_thread = await task
    assert worker_thread != threading.get_ident()


async def test_sync_class_execute_runs_off_the_loop_thread() -> None:
    seen: dict[str, int] = {}

    class Blocking:
        def __init__(self) -> None:
            seen["init"] = threading.get_ident()

        def execute(self) -> int:
            seen["execute"] = threading.get_ident()
            return 1

    assert await build_tool(Blocking).call({}) == 1
    assert seen["execute"] != threading.get_ident()
    assert seen["init"] != threading.get_ident()


async def test_async_tools_run_on_the_loop_thread() -> None:
    async def where() -> int:
        return threading.get_ident()

    assert await build_tool(where).call({}) == threading.get_ident()


async def test_sync_tools_run_concurrently() -> None:
    barrier = threading.Barrier(3, timeout=5)

    def meet(n: int) -> int:
        barrier.wait()  # only returns once all three calls are running at the same time
        return n

    tool = build_tool(meet)
    results = await asyncio.gather(*(tool.call({"n": n}) for n in range(3)))
    assert results == [0, 1, 2]


@pytest.mark.parametrize("is_async", [False, True])
async def test_exception_from_the_tool_is_wrapped_with_the_original_as_cause(
    is_async: bool,
) -> None:
    boom = KeyError("missing-city")

    def sync_fail(city: str) -> None:
        raise boom

    async def async_fail(city: str) -> None:
        raise boom

    tool = build_tool(async_fail if is_async else sync_fail, name="lookup")
    with pytest.raises(ToolExecutionError) as info:
        await tool.call({"city": "Oslo"})
    assert info.value.original is boom
    assert info.value.__cause__ is boom
    assert info.value.tool_name == "lookup"
    assert "KeyError" in str(info.value) and "missing-city" in str(info.value)
    assert isinstance(info.value, ToolProcessingError)
    assert not isinstance(info.value, ToolArgumentsError)


async def test_class_whose_constructor_fails_is_an_execution_error() -> None:
    class Broken:
        def __init__(self) -> None:
            raise RuntimeError("no connection")

        async def execute(self) -> None:
            return None

    with pytest.raises(ToolExecutionError, match="no connection") as info:
        await build_tool(Broken).call({})
    assert isinstance(info.value.__cause__, RuntimeError)


async def test_cancellation_is_not_wrapped() -> None:
    started = asyncio.Event()

    async def slow() -> None:
        started.set()
        await asyncio.sleep(10)

    task = asyncio.create_task(build_tool(slow).call({}))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_execute_takes_parsed_arguments() -> None:
    registry = ToolRegistry()

    def divide(a: float, b: float, /, precision: int = 2) -> float:
        return round(a / b, precision)

    tool = registry.register(divide)
    args = tool.parse_arguments('{"a": 1, "b": 3}')
    assert args == {"a": 1.0, "b": 3.0, "precision": 2}
    assert await tool.execute(args) == 0.33  # positional-only parameters are passed by position
    with pytest.raises(ToolExecutionError) as info:
        await tool.execute(tool.parse_arguments({"a": 1, "b": 0}))
    assert isinstance(info.value.original, ZeroDivisionError)


class Colour(enum.Enum):
    RED = "red"


class Reading(BaseModel):
    value: float
    at: datetime.datetime


@dataclasses.dataclass
class Station:
    name: str
    readings: list[Reading]
    colour: Colour


def test_to_json_value_converts_models_dataclasses_and_containers() -> None:
    at = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.UTC)
    station = Station("Oslo", [Reading(value=1.5, at=at)], Colour.RED)
    assert to_json_value(station) == {
        "name": "Oslo",
        "readings": [{"value": 1.5, "at": "2024-05-01T12:00:00Z"}],
        "colour": "red",
    }
    assert to_json_value(Reading(value=2, at=at)) == {"value": 2.0, "at": "2024-05-01T12:00:00Z"}
    assert to_json_value({"ids": (uuid.UUID(int=1),), 3: {"a"}}) == {
        "ids": ["00000000-0000-0000-0000-000000000001"],
        "3": ["a"],
    }
    for plain in ("text", 3, 2.5, True, None, [1, "a"], {"k": [None]}):
        assert to_json_value(plain) == plain


@pytest.mark.parametrize("value", [object(), float("nan"), {"x": float("inf")}, b"\xff"])
def test_to_json_value_refuses_values_without_a_json_form(value: Any) -> None:
    with pytest.raises(InvalidInputError) as info:
        to_json_value(value)
    assert info.value.field.startswith("result")


async def test_result_without_a_json_form_is_a_result_error() -> None:
    class Opaque:
        pass

    def opaque() -> Opaque:
        return Opaque()

    tool = build_tool(opaque)
    with pytest.raises(ToolResultError, match="Opaque") as info:
        await tool.call({})
    assert isinstance(info.value.result, Opaque)
    assert isinstance(info.value.__cause__, InvalidInputError)
    assert isinstance(await tool.execute({}), Opaque)  # execute returns the raw result


async def test_call_returns_json_for_a_model_result() -> None:
    class Summary(BaseModel):
        count: int
        names: list[str]

    async def summarise(names: list[str]) -> Summary:
        return Summary(count=len(names), names=sorted(names))

    assert await build_tool(summarise).call('{"names": ["b", "a"]}') == {
        "count": 2,
        "names": ["a", "b"],
    }
