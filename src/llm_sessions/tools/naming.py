"""Tool names, namespaces and descriptions: the rules and their defaults.

* A tool name is 1-64 characters from ``A-Z a-z 0-9 _ -`` (what OpenAI accepts as a function name).
* A namespace is one or more such words joined by dots, at most 64 characters in all; the qualified
  name of a tool is ``"namespace.name"``.
* A function's default name is its ``__name__``. A class's default name is its name in snake_case
  without a trailing ``Tool``: ``WeatherTool`` -> ``weather``, ``GetForecast`` -> ``get_forecast``,
  ``HTTPFetchTool`` -> ``http_fetch``. An instance is named after its class the same way.
* The default description is the first paragraph of the docstring, its lines joined by spaces.
"""

from __future__ import annotations

import inspect
import re

from .errors import ToolRegistrationError

__all__ = [
    "DEFAULT_NAMESPACE",
    "class_tool_name",
    "first_paragraph",
    "parameter_descriptions",
    "validate_name",
    "validate_namespace",
]

DEFAULT_NAMESPACE = "default"
_MAX_LENGTH = 64
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NAMESPACE = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")
_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SECTION_HEADERS = frozenset({"args:", "arguments:", "parameters:", "params:"})
_PARAM_LINE = re.compile(r"\*{0,2}(?P<name>\w+)\s*(?:\([^)]*\))?\s*:\s*(?P<text>.*)")


def validate_name(name: object) -> str:
    """Return ``name`` if it is a valid tool name, else raise ``ToolRegistrationError``."""
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        raise ToolRegistrationError(
            f"Tool name {name!r} is invalid: use 1-{_MAX_LENGTH} characters from A-Z, a-z, 0-9, "
            "'_' and '-'"
        )
    return name


def validate_namespace(namespace: object) -> str:
    """Return ``namespace`` if it is a valid namespace, else raise ``ToolRegistrationError``."""
    if (
        not isinstance(namespace, str)
        or len(namespace) > _MAX_LENGTH
        or _NAMESPACE.fullmatch(namespace) is None
    ):
        raise ToolRegistrationError(
            f"Tool namespace {namespace!r} is invalid: use words of A-Z, a-z, 0-9, '_' and '-' "
            f"joined by '.', at most {_MAX_LENGTH} characters"
        )
    return namespace


def class_tool_name(class_name: str) -> str:
    """Return the default tool name for a class: snake_case, without a trailing ``Tool``."""
    snake = _WORD_BOUNDARY.sub("_", class_name).lower()
    if snake.endswith("_tool") and len(snake) > len("_tool"):
        snake = snake[: -len("_tool")]
    return snake


def first_paragraph(doc: str | None) -> str:
    """Return the first paragraph of a docstring on one line, or ``""``."""
    if not doc:
        return ""
    paragraph: list[str] = []
    for line in inspect.cleandoc(doc).splitlines():
        stripped = line.strip()
        if not stripped:
            if paragraph:
                break
            continue
        paragraph.append(stripped)
    return " ".join(paragraph)


def parameter_descriptions(doc: str | None) -> dict[str, str]:
    """Return the parameter descriptions of a Google-style ``Args:`` section of a docstring.

    ``name: text`` and ``name (type): text`` entries are read; continuation lines, indented deeper
    than the entry, are joined to it.
    """
    if not doc:
        return {}
    found: dict[str, str] = {}
    in_section = False
    entry_indent: int | None = None
    current: str | None = None
    for line in inspect.cleandoc(doc).splitlines():
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if stripped.lower() in _SECTION_HEADERS and indent == 0:
            in_section, entry_indent, current = True, None, None
            continue
        if not in_section or not stripped:
            continue
        if indent == 0:  # the next section, or the text after it
            in_section, current = False, None
            continue
        if entry_indent is None:
            entry_indent = indent
        match = _PARAM_LINE.fullmatch(stripped)
        if indent <= entry_indent and match is not None:
            current = match["name"]
            found[current] = match["text"].strip()
        elif current is not None and indent > entry_indent:
            found[current] = f"{found[current]} {stripped}".strip()
    return {name: text for name, text in found.items() if text}
