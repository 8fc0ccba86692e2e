"""The errors of the tool layer, one type per way a tool call can go wrong.

A caller that runs tool calls an LLM asked for can tell every case apart::

    SessionManagerError
    ├── ToolRegistrationError (also ValueError)   a tool that cannot be registered
    │   └── DuplicateToolError                    namespace + name already taken
    └── ToolProcessingError                       a tool call could not be run
        ├── ToolNotFoundError (also LookupError)  no tool by that name
        │   └── AmbiguousToolNameError            a bare name found in several namespaces
        ├── ToolArgumentsError (also ValueError)  the arguments were rejected; the tool never ran
        │   ├── ToolArgumentsJSONError            not valid JSON
        │   └── ToolArgumentsValidationError      valid JSON that does not fit the tool's schema
        ├── ToolExecutionError                    the tool itself raised; ``__cause__`` is its error
        └── ToolResultError                       the tool's result is not a JSON value

Every ``ToolProcessingError`` has ``tool_name`` and ``reason``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..exceptions import SessionManagerError, ToolProcessingError

__all__ = [
    "AmbiguousToolNameError",
    "ArgumentProblem",
    "DuplicateToolError",
    "ToolArgumentsError",
    "ToolArgumentsJSONError",
    "ToolArgumentsValidationError",
    "ToolExecutionError",
    "ToolNotFoundError",
    "ToolRegistrationError",
    "ToolResultError",
]

_MAX_LISTED = 20


def short_repr(value: object, limit: int = 80) -> str:
    """Return ``repr(value)`` cut to ``limit`` characters, for error messages."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_MAX_LISTED])
    more = len(names) - _MAX_LISTED
    return f"{shown}, and {more} more" if more > 0 else shown


class ToolRegistrationError(SessionManagerError, ValueError):
    """A tool could not be registered: a bad name, or a target that cannot be called as a tool."""


class DuplicateToolError(ToolRegistrationError):
    """A tool with this namespace and name is already registered in the registry."""

    def __init__(self, namespace: str, name: str) -> None:
        self.namespace = namespace
        self.name = name
        super().__init__(
            f"A tool named {name!r} is already registered in namespace {namespace!r} "
            f"({namespace}.{name}); pass replace=True to replace it"
        )


class ToolNotFoundError(ToolProcessingError, LookupError):
    """No registered tool answers to the name; ``available`` lists the qualified names."""

    def __init__(
        self, tool_name: str, available: Sequence[str] = (), *, reason: str | None = None
    ) -> None:
        self.available: tuple[str, ...] = tuple(available)
        if reason is None:
            reason = "no tool with this name is registered"
            if self.available:
                reason += f" (registered: {_listing(self.available)})"
        super().__init__(tool_name, reason)


class AmbiguousToolNameError(ToolNotFoundError):
    """A bare name matches tools in several namespaces and none of them is ``default``.

    ``candidates`` holds the qualified names; look one up as ``"namespace.name"``.
    """

    def __init__(self, tool_name: str, candidates: Sequence[str], hint: str | None = None) -> None:
        self.candidates: tuple[str, ...] = tuple(candidates)
        super().__init__(
            tool_name,
            self.candidates,
            reason=(
                f"the name matches tools in several namespaces ({_listing(self.candidates)}); "
                + (hint or "qualify it as 'namespace.name'")
            ),
        )


class ToolArgumentsError(ToolProcessingError, ValueError):
    """The arguments of a tool call were rejected before the tool ran."""


class ToolArgumentsJSONError(ToolArgumentsError):
    """The arguments are not valid JSON.

    ``raw`` holds the text received, ``position`` the character offset of the problem.
    """

    def __init__(self, tool_name: str, raw: str, message: str, position: int | None = None) -> None:
        self.raw = raw
        self.position = position
        where = f" at character {position}" if position is not None else ""
        super().__init__(
            tool_name, f"arguments are not valid JSON ({message}{where}): {short_repr(raw)}"
        )


@dataclass(frozen=True, slots=True)
class ArgumentProblem:
    """One way the arguments miss the schema.

    ``field`` is a path such as ``"location"``, ``"address.city"`` or ``"tags[2]"``
    (``"(arguments)"`` for the arguments as a whole); ``value`` is what was sent there (``None``
    when missing); ``kind`` is pydantic's error type (``"missing"``, ``"extra_forbidden"``,
    ``"int_parsing"``, ...).
    """

    field: str
    value: object
    kind: str
    message: str

    def describe(self) -> str:
        """Return a one-line description naming the field and the value.

        Returns:
            The description.
        """
        if self.kind == "missing":
            return f"missing required argument {self.field!r}"
        if self.kind == "extra_forbidden":
            return f"unexpected argument {self.field}={short_repr(self.value)}"
        return f"{self.field}={short_repr(self.value)}: {self.message}"


class ToolArgumentsValidationError(ToolArgumentsError):
    """The arguments are valid JSON but do not fit the tool's parameters.

    ``problems`` lists every problem found; ``field`` and ``value`` are those of the first.
    """

    def __init__(self, tool_name: str, problems: Sequence[ArgumentProblem]) -> None:
        if not problems:
            raise ValueError("ToolArgumentsValidationError needs at least one problem")
        self.problems: tuple[ArgumentProblem, ...] = tuple(problems)
        self.field = self.problems[0].field
        self.value = self.problems[0].value
        details = "; ".join(problem.describe() for problem in self.problems)
        super().__init__(tool_name, f"invalid arguments: {details}")


class ToolExecutionError(ToolProcessingError):
    """The tool itself raised; the original exception is ``original`` and ``__cause__``."""

    def __init__(self, tool_name: str, original: BaseException) -> None:
        self.original = original
        text = str(original)
        kind = type(original).__name__
        super().__init__(tool_name, f"{kind}: {text}" if text else kind)


class ToolResultError(ToolProcessingError):
    """The tool returned a value that cannot be turned into JSON; ``__cause__`` says why."""

    def __init__(self, tool_name: str, result: object, reason: str) -> None:
        self.result = result
        super().__init__(tool_name, f"result {short_repr(result)} is not a JSON value: {reason}")
