"""``ToolRegistry``: the tools an application offers, by namespace and name.

Lookup rules (``get``):

* ``get("weather", namespace="math")`` and ``get("math.weather")`` name one tool exactly;
* ``get("weather")`` takes the tool of that name in the ``default`` namespace if there is one,
  else the only tool of that name in any namespace; several and none in ``default`` is an
  ``AmbiguousToolNameError``.

Registration is thread-safe; a process-wide registry, used by ``register_tool`` unless it is given
another, is returned by ``get_default_registry()``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import JsonValue

from .arguments import RawArguments
from .errors import AmbiguousToolNameError, DuplicateToolError, ToolNotFoundError
from .naming import DEFAULT_NAMESPACE
from .spec import RegisteredTool, build_tool

__all__ = ["ToolRegistry", "get_default_registry"]


class ToolRegistry:
    """A set of tools keyed by ``(namespace, name)``, kept in registration order."""

    def __init__(self) -> None:
        self._tools: dict[tuple[str, str], RegisteredTool] = {}
        self._lock = threading.Lock()

    def register(
        self,
        target: object,
        *,
        name: str | None = None,
        namespace: str = DEFAULT_NAMESPACE,
        description: str | None = None,
        replace: bool = False,
    ) -> RegisteredTool:
        """Register a function, a class with ``execute`` or such an instance; return its tool.

        Name and description default as ``build_tool`` says. Raises ``DuplicateToolError`` when
        the namespace already has a tool of that name, unless ``replace`` is true, and
        ``ToolRegistrationError`` for anything that cannot be a tool.

        Args:
            target: A function, an async function, a class with ``execute`` or such an instance.
            name: The tool's name (default: from the target).
            namespace: The namespace to register in.
            description: What the tool does, for the model (default: the docstring's first
                paragraph).
            replace: Replace a tool of the same name instead of raising.

        Returns:
            The registered tool.

        Raises:
            DuplicateToolError: The namespace already has a tool of that name (unless ``replace``).
            ToolRegistrationError: The target cannot be a tool, or its name is bad.
        """
        tool = build_tool(target, name=name, namespace=namespace, description=description)
        return self.add(tool, replace=replace)

    def add(self, tool: RegisteredTool, *, replace: bool = False) -> RegisteredTool:
        """Add an already built tool; raises ``DuplicateToolError`` unless ``replace``.

        Args:
            tool: The tool, as ``build_tool`` makes it.
            replace: Replace a tool of the same name instead of raising.

        Returns:
            The tool.

        Raises:
            DuplicateToolError: Its namespace already has a tool of that name (unless ``replace``).
        """
        key = (tool.namespace, tool.name)
        with self._lock:
            if key in self._tools and not replace:
                raise DuplicateToolError(tool.namespace, tool.name)
            self._tools[key] = tool
        return tool

    def unregister(self, name: str, namespace: str | None = None) -> RegisteredTool:
        """Remove the tool ``get(name, namespace)`` finds and return it.

        Args:
            name: The tool's name, bare or ``namespace.name``.
            namespace: The namespace to look in (None: ``default`` first, then any).

        Returns:
            The removed tool.

        Raises:
            ToolNotFoundError: No tool matches.
        """
        with self._lock:
            tool = self._find(name, namespace)
            del self._tools[(tool.namespace, tool.name)]
        return tool

    def clear(self) -> None:
        """Remove every tool."""
        with self._lock:
            self._tools.clear()

    def get(self, name: str, namespace: str | None = None) -> RegisteredTool:
        """Return the tool called ``name`` (see the module's lookup rules).

        Raises ``ToolNotFoundError`` (listing the registered tools) when none matches, and its
        subclass ``AmbiguousToolNameError`` when a bare name matches several namespaces.

        Args:
            name: The tool's name, bare or ``namespace.name``.
            namespace: The namespace to look in (None: ``default`` first, then any).

        Returns:
            The tool.

        Raises:
            ToolNotFoundError: No tool matches.
            AmbiguousToolNameError: A bare name matches tools in several namespaces.
        """
        with self._lock:
            return self._find(name, namespace)

    def _find(self, name: str, namespace: str | None) -> RegisteredTool:
        if namespace is not None:
            key = (namespace, name)
        elif "." in name:
            prefix, _, bare = name.rpartition(".")
            key = (prefix, bare)
        else:
            exact = self._tools.get((DEFAULT_NAMESPACE, name))
            if exact is not None:
                return exact
            matches = [tool for (_, bare), tool in self._tools.items() if bare == name]
            if len(matches) == 1:
                return matches[0]
            if matches:
                raise AmbiguousToolNameError(name, [tool.qualified_name for tool in matches])
            raise ToolNotFoundError(name, self._qualified_names())
        tool = self._tools.get(key)
        if tool is None:
            asked = name if namespace is None else f"{namespace}.{name}"
            raise ToolNotFoundError(asked, self._qualified_names())
        return tool

    def _qualified_names(self) -> list[str]:
        return [tool.qualified_name for tool in self._tools.values()]

    def __contains__(self, name: object) -> bool:
        """Whether ``get(name)`` finds exactly one tool."""
        if not isinstance(name, str):
            return False
        try:
            self.get(name)
        except ToolNotFoundError:
            return False
        return True

    def __len__(self) -> int:
        return len(self._tools)

    def __iter__(self) -> Iterator[RegisteredTool]:
        """Iterate over the tools in registration order (a snapshot)."""
        return iter(self.tools())

    def tools(self, namespace: str | None = None) -> list[RegisteredTool]:
        """Return the tools, in registration order, optionally of one namespace only.

        Args:
            namespace: Keep this namespace only (default: every one).

        Returns:
            The tools.
        """
        with self._lock:
            return [
                tool
                for tool in self._tools.values()
                if namespace is None or tool.namespace == namespace
            ]

    def list_tools(self, namespace: str | None = None) -> list[tuple[str, str]]:
        """Return ``(namespace, name)`` pairs, in registration order.

        Args:
            namespace: Keep this namespace only (default: every one).

        Returns:
            The ``(namespace, name)`` pairs.
        """
        return [(tool.namespace, tool.name) for tool in self.tools(namespace)]

    def list_namespaces(self) -> list[str]:
        """Return the namespaces that hold at least one tool, sorted.

        Returns:
            The namespace names.
        """
        return sorted({tool.namespace for tool in self.tools()})

    def to_openai_tools(
        self, namespace: str | None = None, names: Iterable[str] | None = None
    ) -> list[dict[str, Any]]:
        """Return OpenAI tool schemas for the tools, to pass as ``tools=`` to chat completions.

        ``namespace`` keeps one namespace; ``names`` keeps the tools ``get`` finds for those
        names. The LLM calls a tool by its bare name, so two selected tools with the same name in
        different namespaces raise ``AmbiguousToolNameError``: select one namespace instead.

        Args:
            namespace: Keep this namespace only.
            names: Keep the tools these names find.

        Returns:
            One ``{"type": "function", "function": {...}}`` schema per tool.

        Raises:
            AmbiguousToolNameError: Two selected tools share a bare name.
        """
        selected = self.tools(namespace) if names is None else [self.get(n) for n in names]
        if namespace is not None and names is not None:
            selected = [tool for tool in selected if tool.namespace == namespace]
        seen: dict[str, RegisteredTool] = {}
        for tool in selected:
            other = seen.setdefault(tool.name, tool)
            if other is not tool and other.namespace != tool.namespace:
                raise AmbiguousToolNameError(
                    tool.name,
                    [other.qualified_name, tool.qualified_name],
                    hint="pass namespace= or names= to export one of them",
                )
        return [tool.to_openai() for tool in seen.values()]

    async def call(
        self, name: str, arguments: RawArguments, *, namespace: str | None = None
    ) -> JsonValue:
        """Look a tool up, validate ``arguments``, run it and return its result as JSON.

        A shortcut for ``await registry.get(name, namespace).call(arguments)``.

        Args:
            name: The tool's name.
            arguments: The arguments, as a JSON string or a mapping.
            namespace: The namespace to look in (None: ``default`` first, then any).

        Returns:
            The tool's result, as a JSON value.

        Raises:
            ToolNotFoundError: No tool matches.
            ToolArgumentsError: The arguments do not fit the tool's signature.
            ToolExecutionError: The tool raised (its exception is the cause).
        """
        return await self.get(name, namespace).call(arguments)


_default_registry = ToolRegistry()


def get_default_registry() -> ToolRegistry:
    """Return the process-wide registry that ``register_tool`` uses by default.

    Returns:
        The default registry.
    """
    return _default_registry
