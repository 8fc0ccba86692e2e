"""OpenTelemetry spans and metrics of the library (see ``_otel`` for what is reported)."""

from ._otel import (
    annotate,
    configure,
    fail,
    is_enabled,
    record_store_operation,
    record_tool_call,
    record_usage,
    set_enabled,
    span,
    store_span,
    traced,
)

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
