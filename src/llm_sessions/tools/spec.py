"""``RegisteredTool``: one tool, ready to describe to an LLM, check its arguments and run it.

Three kinds of object can be a tool:

* a function, sync or async (also a ``functools.partial`` or an object with ``__call__``);
* a class with an ``execute`` method, sync or async. The class is instantiated without arguments
  for every call, so calls never share instance state; its ``__init__`` must need no arguments;
* an instance with an ``execute`` method, shared by every call (register an instance when
  construction is costly or needs arguments).

Async tools are awaited on the running loop. Sync tools, and the construction of a class whose
``execute`` is sync, run in a worker thread (``asyncio.to_thread``) so they never block the loop.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import JsonValue

from ..exceptions import InvalidInputError
from .arguments import RawArguments, decode_arguments
from .errors import ToolExecutionError, ToolRegistrationError, ToolResultError
from .naming import (
    DEFAULT_NAMESPACE,
    class_tool_name,
    first_paragraph,
    parameter_descriptions,
    validate_name,
    validate_namespace,
)
from .results import to_json_value
from .schema import ArgumentsSchema, build_arguments_schema

__all__ = ["RegisteredTool", "ToolKind", "build_tool"]

ToolKind = Literal["function", "class", "instance"]


@dataclass(frozen=True, slots=True, eq=False)
class RegisteredTool:
    """A registered tool.

    Attributes:
        name: the name the LLM calls it by (and its OpenAI function name).
        namespace: the group it is registered in; ``qualified_name`` is ``"namespace.name"``.
        description: what the LLM is told the tool does.
        target: the object that was registered (function, class or instance), unchanged.
        kind: ``"function"``, ``"class"`` or ``"instance"``.
        is_async: whether the tool is awaited (else it runs in a worker thread).
        arguments_schema: the pydantic model and JSON schema of its parameters.

    The usual sequence for one tool call, each step with its own error type::

        args = tool.parse_arguments(raw)     # ToolArgumentsJSONError / ToolArgumentsValidationError
        result = await tool.execute(args)    # ToolExecutionError, __cause__ = the tool's exception
        value = to_json_value(result)

    or all three at once with ``await tool.call(raw)`` (``ToolResultError`` for a result that is
    not JSON).
    """

    name: str
    namespace: str
    description: str
    target: object
    kind: ToolKind
    is_async: bool
    arguments_schema: ArgumentsSchema
    _resolve: Callable[[], Callable[..., Any]] = field(repr=False)

    @property
    def qualified_name(self) -> str:
        """``"namespace.name"``."""
        return f"{self.namespace}.{self.name}"

    @property
    def parameters_schema(self) -> dict[str, Any]:
        """The JSON schema of the tool's arguments (a fresh copy, safe to modify)."""
        return copy.deepcopy(dict(self.arguments_schema.json_schema))

    def to_openai(self) -> dict[str, Any]:
        """Return the OpenAI tool schema: ``{"type": "function", "function": {...}}``.

        Returns:
            The schema.
        """
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters_schema,
            },
        }

    def parse_arguments(self, raw: RawArguments) -> dict[str, Any]:
        """Decode and validate the arguments of a call; return them keyed by parameter name.

        ``raw`` is JSON text (as OpenAI sends it), a mapping, or ``None``/``""`` for no arguments.
        Defaults are filled in and values converted as the annotations say. Raises
        ``ToolArgumentsJSONError`` for text that is not JSON and ``ToolArgumentsValidationError``
        (naming each field and value) for arguments that do not fit the parameters.

        Args:
            raw: The arguments as the model sent them.

        Returns:
            The values by parameter name.

        Raises:
            ToolArgumentsJSONError: The text is not JSON.
            ToolArgumentsValidationError: The arguments do not fit the parameters.
        """
        return self.arguments_schema.validate(self.name, decode_arguments(raw, self.name))

    async def execute(self, arguments: Mapping[str, Any]) -> Any:
        """Run the tool with arguments returned by ``parse_arguments``; return what it returns.

        Any exception the tool raises (``Exception``, not cancellation) is raised again as
        ``ToolExecutionError`` with the original as ``original`` and ``__cause__``.

        Args:
            arguments: What ``parse_arguments`` returned.

        Returns:
            The tool's result.

        Raises:
            ToolExecutionError: The tool raised.
        """
        args, kwargs = self.arguments_schema.bind(arguments)
        try:
            if self.is_async:
                result = self._resolve()(*args, **kwargs)
            else:
                result = await asyncio.to_thread(self._run_sync, args, kwargs)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:
            raise ToolExecutionError(self.name, exc) from exc
        return result

    async def call(self, raw: RawArguments) -> JsonValue:
        """Parse ``raw``, run the tool and return its result as a JSON value.

        Raises the errors of ``parse_arguments`` and ``execute``, and ``ToolResultError`` when the
        result has no JSON form.

        Args:
            raw: The arguments as the model sent them.

        Returns:
            The result as a JSON value.

        Raises:
            ToolArgumentsError: The arguments are not JSON or do not fit.
            ToolExecutionError: The tool raised.
            ToolResultError: The result has no JSON form.
        """
        result = await self.execute(self.parse_arguments(raw))
        try:
            return to_json_value(result)
        except InvalidInputError as exc:
            raise ToolResultError(self.name, result, exc.reason) from exc

    def _run_sync(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        return self._resolve()(*args, **kwargs)


def _is_async_callable(func: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(func):
        return True
    call = getattr(type(func), "__call__", None)  # noqa: B004 - the class's __call__, not func
    return (
        not inspect.isroutine(func)
        and not isinstance(func, functools.partial)
        and call is not None
        and inspect.iscoroutinefunction(call)
    )


def _doc_of(obj: object) -> str | None:
    return None if obj is None else getattr(obj, "__doc__", None)


def _check_constructible(cls: type) -> None:
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return
    required = [
        param.name
        for param in signature.parameters.values()
        if param.default is inspect.Parameter.empty
        and param.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]
    if required:
        raise ToolRegistrationError(
            f"Tool class {cls.__name__} is instantiated for every call and must need no "
            f"arguments, but __init__ requires {', '.join(required)}; register an instance instead"
        )


def _class_resolver(cls: type) -> Callable[[], Callable[..., Any]]:
    def resolve() -> Callable[..., Any]:
        method: Callable[..., Any] = cls().execute
        return method

    return resolve


def _fixed_resolver(func: Callable[..., Any]) -> Callable[[], Callable[..., Any]]:
    def resolve() -> Callable[..., Any]:
        return func

    return resolve


def _inspect_target(
    target: object,
) -> tuple[
    ToolKind,
    Callable[..., Any],
    bool,
    str | None,
    list[str | None],
    Callable[[], Callable[..., Any]],
]:
    """What kind of tool ``target`` is: its kind, the callable to run, whether that callable's
    first parameter is ``self``, its default name, its docstrings and its resolver."""
    kind: ToolKind
    skip_first = False
    docs: list[str | None]
    if inspect.isclass(target):
        kind = "class"
        raw = inspect.getattr_static(target, "execute", None)
        func = getattr(target, "execute", None)
        if raw is None or func is None or not callable(func):
            raise ToolRegistrationError(
                f"Tool class {target.__name__} has no execute method to run"
            )
        _check_constructible(target)
        skip_first = not isinstance(raw, staticmethod | classmethod)
        default_name: str | None = class_tool_name(target.__name__)
        docs = [target.__doc__, func.__doc__]
        resolve = _class_resolver(target)
    elif callable(getattr(target, "execute", None)) and not inspect.isroutine(target):
        kind = "instance"
        func = getattr(target, "execute")  # noqa: B009 - narrowed by the callable() check
        default_name = class_tool_name(type(target).__name__)
        docs = [type(target).__doc__, func.__doc__]
        resolve = _fixed_resolver(func)
    elif callable(target):
        kind = "function"
        func = target
        inner = target.func if isinstance(target, functools.partial) else target
        default_name = getattr(inner, "__name__", None) or class_tool_name(type(target).__name__)
        if inspect.isroutine(inner) or isinstance(target, functools.partial):
            docs = [inner.__doc__]
        else:  # an object with __call__
            docs = [type(target).__doc__, _doc_of(getattr(type(target), "__call__", None))]  # noqa: B004
        resolve = _fixed_resolver(func)
    else:
        raise ToolRegistrationError(
            f"{target!r} cannot be a tool: register a function, a class with an execute method "
            "or an instance of one"
        )
    return kind, func, skip_first, default_name, docs, resolve


def build_tool(
    target: object,
    *,
    name: str | None = None,
    namespace: str = DEFAULT_NAMESPACE,
    description: str | None = None,
) -> RegisteredTool:
    """Describe ``target`` (a function, a class with ``execute`` or such an instance) as a tool.

    ``name`` defaults to the function's name, or the class name in snake_case without a trailing
    ``Tool``; ``description`` to the first paragraph of the docstring (the class's, else
    ``execute``'s). Raises ``ToolRegistrationError`` for a bad name or namespace, a target that
    cannot be a tool, or parameters without a JSON schema.
    """
    validate_namespace(namespace)
    kind, func, skip_first, default_name, docs, resolve = _inspect_target(target)
    tool_name = validate_name(name if name is not None else default_name)
    if inspect.isasyncgenfunction(func) or inspect.isgeneratorfunction(func):
        raise ToolRegistrationError(
            f"Tool {tool_name!r} is a generator function; a tool must return its result"
        )
    descriptions: dict[str, str] = {}
    for doc in docs:
        descriptions.update(parameter_descriptions(doc))
    if description is None:
        description = next((text for text in map(first_paragraph, docs) if text), "")
    return RegisteredTool(
        name=tool_name,
        namespace=namespace,
        description=description,
        target=target,
        kind=kind,
        is_async=_is_async_callable(func),
        arguments_schema=build_arguments_schema(
            func, tool_name, skip_first=skip_first, descriptions=descriptions
        ),
        _resolve=resolve,
    )
