"""``register_tool``: the decorator that registers a function or a tool class."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

from .naming import DEFAULT_NAMESPACE
from .registry import ToolRegistry, get_default_registry

__all__ = ["register_tool"]

T = TypeVar("T", bound=Callable[..., Any])


@overload
def register_tool(name: T, /) -> T: ...


@overload
def register_tool(
    name: str | None = None,
    namespace: str = DEFAULT_NAMESPACE,
    description: str | None = None,
    *,
    registry: ToolRegistry | None = None,
    replace: bool = False,
) -> Callable[[T], T]: ...


def register_tool(
    name: str | T | None = None,
    namespace: str = DEFAULT_NAMESPACE,
    description: str | None = None,
    *,
    registry: ToolRegistry | None = None,
    replace: bool = False,
) -> T | Callable[[T], T]:
    """Register the decorated function, async function or class as a tool; return it unchanged.

    ::

        @register_tool(name="weather", namespace="default", description="Get weather info")
        class WeatherTool:
            async def execute(self, location: str) -> dict[str, Any]: ...

        @register_tool
        def add(a: int, b: int) -> int:
            "Add two integers."
            return a + b

    ``name`` defaults to the function's name, or the class name in snake_case without a trailing
    ``Tool`` (``WeatherTool`` -> ``weather``); ``description`` to the docstring's first paragraph.
    Tools go into ``registry``, by default ``get_default_registry()``, at decoration time.

    Args:
        name: The tool's name; or, used bare (``@register_tool``), the target itself.
        namespace: The namespace to register in.
        description: What the tool does, for the model (default: the docstring's first
            paragraph).
        registry: The registry (default: ``get_default_registry()``).
        replace: Replace a tool of the same name instead of raising.

    Returns:
        The target unchanged (used bare), or a decorator that registers and returns it.

    Raises:
        DuplicateToolError: ``namespace`` already has a tool of that name (unless ``replace``).
        ToolRegistrationError: A bad name, or a target that cannot be a tool.
    """
    if callable(name):  # used bare: @register_tool
        target = name
        (registry if registry is not None else get_default_registry()).register(
            target, namespace=namespace, description=description, replace=replace
        )
        return target

    def decorate(target: T) -> T:
        (registry if registry is not None else get_default_registry()).register(
            target, name=name, namespace=namespace, description=description, replace=replace
        )
        return target

    return decorate
