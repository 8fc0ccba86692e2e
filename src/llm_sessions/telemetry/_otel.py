"""OpenTelemetry spans and metrics, emitted only when ``opentelemetry-api`` is installed.

Install the extra (``pip install "llm-sessions[otel]"``) and configure an SDK as usual; the
library then reports:

- spans for a turn (``user_says``, ``ai_responds``, ``build_prompt``), each tool call
  (``execute_tool {name}``) and each of its attempts, and each store operation
  (``store.save`` / ``store.get``), with OpenTelemetry's GenAI attribute names where they apply
  (``gen_ai.conversation.id``, ``gen_ai.request.model``, ``gen_ai.usage.input_tokens``,
  ``gen_ai.tool.name`` ...) and the cost as ``llm_sessions.cost_usd``;
- metrics: ``gen_ai.client.token.usage`` (tokens by model and token type),
  ``llm_sessions.cost`` (USD by model), ``llm_sessions.store.operation.duration`` (seconds, by
  store and operation) and ``llm_sessions.tool.calls`` (by tool and outcome).

Without the package, traced methods are left as they are and every other helper returns at
once: no import, no allocation per call. The same holds while no SDK is configured (neither
``configure`` nor OpenTelemetry's global providers give one): the API's no-op spans would
cost a tenth of an in-memory append and report nothing. ``set_enabled(False)`` turns emission
off at run time.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

if TYPE_CHECKING:
    from ..models._token_usage import TokenUsage

__all__ = [
    "annotate",
    "configure",
    "fail",
    "is_enabled",
    "record_store_operation",
    "record_tool_call",
    "record_usage",
    "set_enabled",
    "span",
    "store_span",
    "traced",
]

P = ParamSpec("P")
R = TypeVar("R")
Attributes = Mapping[str, str | int | float | bool]

_INSTRUMENTATION = "llm_sessions"
_available = importlib.util.find_spec("opentelemetry") is not None
_enabled = _available
_providers: dict[str, Any] = {}


def is_enabled() -> bool:
    """Whether spans and metrics are being emitted: the package is installed, emission is
    on, and a tracer or meter provider is configured (here or globally)."""
    return _enabled and _has_provider()


def _has_provider() -> bool:
    if _providers.get("tracer") is not None or _providers.get("meter") is not None:
        return True
    trace, metrics_state, from_environment = _global_state()
    # Until an SDK sets one, the global providers are the API's proxies, which report nothing.
    # The API's own getters look the environment up on every call until then (a tenth of an
    # append): its globals are read instead, and a version without them counts as set.
    return (
        from_environment
        or getattr(trace, "_TRACER_PROVIDER", trace) is not None
        or getattr(metrics_state, "_METER_PROVIDER", metrics_state) is not None
    )


@functools.cache
def _global_state() -> tuple[Any, Any, bool]:
    from opentelemetry import environment_variables as names
    from opentelemetry import trace
    from opentelemetry.metrics import _internal as metrics_state

    from_environment = any(
        name in os.environ
        for name in (names.OTEL_PYTHON_TRACER_PROVIDER, names.OTEL_PYTHON_METER_PROVIDER)
    )
    return trace, metrics_state, from_environment


def set_enabled(enabled: bool) -> None:
    """Turn emission on or off (on is possible only with ``opentelemetry-api`` installed)."""
    global _enabled
    _enabled = bool(enabled) and _available


def configure(*, tracer_provider: Any = None, meter_provider: Any = None) -> None:
    """Use these providers instead of the global ones (None: back to the global ones)."""
    _providers["tracer"] = tracer_provider
    _providers["meter"] = meter_provider
    _tracer.cache_clear()
    _instruments.cache_clear()


@functools.cache
def _tracer() -> Any:
    from opentelemetry import trace

    return trace.get_tracer(_INSTRUMENTATION, tracer_provider=_providers.get("tracer"))


@functools.cache
def _instruments() -> dict[str, Any]:
    from opentelemetry import metrics

    meter = metrics.get_meter(_INSTRUMENTATION, meter_provider=_providers.get("meter"))
    return {
        "tokens": meter.create_histogram(
            "gen_ai.client.token.usage", unit="{token}", description="Tokens used per event"
        ),
        "cost": meter.create_counter(
            "llm_sessions.cost", unit="USD", description="Cost of priced events"
        ),
        "store": meter.create_histogram(
            "llm_sessions.store.operation.duration", unit="s", description="Store operations"
        ),
        "tools": meter.create_counter(
            "llm_sessions.tool.calls", unit="{call}", description="Tool calls by outcome"
        ),
    }


_NOTHING: contextlib.nullcontext[None] = contextlib.nullcontext()
"""What the span helpers return when telemetry is off: one shared object, nothing to build."""


def span(name: str, attributes: Attributes | None = None) -> AbstractContextManager[Any]:
    """A span around the block (nothing when telemetry is off); errors mark it failed."""
    if not is_enabled():
        return _NOTHING
    return cast(
        AbstractContextManager[Any],
        _tracer().start_as_current_span(name, attributes=attributes),
    )


def annotate(attributes: Attributes) -> None:
    """Add attributes to the current span (nothing when telemetry is off)."""
    if is_enabled():
        from opentelemetry import trace

        trace.get_current_span().set_attributes(attributes)


def fail(error_type: str, description: str | None = None) -> None:
    """Mark the current span failed: ``error.type`` and an ERROR status (nothing when
    telemetry is off)."""
    if is_enabled():
        from opentelemetry import trace

        current = trace.get_current_span()
        current.set_attribute("error.type", error_type)
        current.set_status(trace.Status(trace.StatusCode.ERROR, description))


def traced(
    name: str, describe: Callable[[Any], Attributes] | None = None
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Run an async method inside a span called ``name``; ``describe(self)``, called when the
    method returns, adds attributes (the conversation id, say)."""

    def wrap(function: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        if not _available:
            return function  # without the package the method is left exactly as written

        @functools.wraps(function)
        async def inner(*args: P.args, **kwargs: P.kwargs) -> R:
            if not is_enabled():
                return await function(*args, **kwargs)
            with _tracer().start_as_current_span(name) as current:
                result = await function(*args, **kwargs)
                if describe is not None and args:
                    current.set_attributes(describe(args[0]))
                return result

        return inner

    return wrap


def store_span(
    operation: str, store: object, session_id: str, attributes: Attributes | None = None
) -> AbstractAsyncContextManager[Any]:
    """A ``store.<operation>`` span and a duration measurement for one store call."""
    if not is_enabled():
        return _NOTHING
    return _store_span(operation, store, session_id, attributes)


@contextlib.asynccontextmanager
async def _store_span(
    operation: str, store: object, session_id: str, attributes: Attributes | None
) -> AsyncIterator[None]:
    kind = type(store).__name__
    started = time.perf_counter()
    outcome = "error"
    try:
        with _tracer().start_as_current_span(
            f"store.{operation}",
            attributes={
                "llm_sessions.store.kind": kind,
                "llm_sessions.store.operation": operation,
                "gen_ai.conversation.id": session_id,
                **(attributes or {}),
            },
        ):
            yield
        outcome = "ok"
    finally:
        record_store_operation(kind, operation, time.perf_counter() - started, outcome)


def record_store_operation(kind: str, operation: str, seconds: float, outcome: str) -> None:
    """Count one store operation's duration."""
    if is_enabled():
        _instruments()["store"].record(
            seconds,
            {
                "llm_sessions.store.kind": kind,
                "llm_sessions.store.operation": operation,
                "llm_sessions.outcome": outcome,
            },
        )


def record_usage(usage: TokenUsage) -> None:
    """Count an event's tokens and cost by model, and put them on the current span."""
    if not is_enabled():
        return
    model = usage.model or "unknown"
    instruments = _instruments()
    for token_type, count in (
        ("input", usage.prompt_tokens),
        ("output", usage.completion_tokens),
    ):
        if count:
            instruments["tokens"].record(
                count, {"gen_ai.request.model": model, "gen_ai.token.type": token_type}
            )
    attributes: dict[str, str | int | float] = {
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": usage.prompt_tokens,
        "gen_ai.usage.output_tokens": usage.completion_tokens,
    }
    if usage.estimated_cost_usd is not None:
        instruments["cost"].add(usage.estimated_cost_usd, {"gen_ai.request.model": model})
        attributes["llm_sessions.cost_usd"] = usage.estimated_cost_usd
    annotate(attributes)


def record_tool_call(tool: str, outcome: str) -> None:
    """Count one tool call by its outcome (``success``, ``error`` or ``cached``)."""
    if is_enabled():
        _instruments()["tools"].add(1, {"gen_ai.tool.name": tool, "llm_sessions.outcome": outcome})
