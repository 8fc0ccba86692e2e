"""Counters and a latency histogram, exposed in Prometheus' text format at ``/metrics``.

Each app owns its own ``Metrics`` (no process-wide registry), so two apps in one process, or a
test, never see each other's numbers. With several workers each reports its own process, as
Prometheus expects.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field

__all__ = ["KNOWN_METHODS", "LATENCY_BUCKETS", "Metrics", "method_label"]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Upper bounds of the latency histogram, in seconds."""

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""The methods that get a label of their own; any other method string is counted as ``other``."""

Labels = tuple[tuple[str, str], ...]


def method_label(method: str) -> str:
    """``method`` when it is one of ``KNOWN_METHODS``, else ``"other"``.

    A client chooses the method string, so a label taken from it verbatim would let anyone grow
    the exposition (and the time to build it) without bound.
    """
    return method if method in KNOWN_METHODS else "other"


@dataclass
class _Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * len(LATENCY_BUCKETS))
    total: int = 0
    sum: float = 0.0

    def observe(self, value: float) -> None:
        index = bisect.bisect_left(LATENCY_BUCKETS, value)
        if index < len(LATENCY_BUCKETS):
            self.counts[index] += 1
        self.total += 1
        self.sum += value


class Metrics:
    """What the server counts: requests, latency, store errors, sessions and events written."""

    def __init__(self) -> None:
        self._requests: dict[Labels, int] = defaultdict(int)
        self._latency: dict[Labels, _Histogram] = defaultdict(_Histogram)
        self.store_errors = 0
        self.sessions_created = 0
        self.events_written = 0
        self.live_tails = 0

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one finished request and its latency.

        Args:
            method: The request's method; one outside ``KNOWN_METHODS`` is counted as ``other``.
            route: The route template (never the raw path), or ``unmatched``.
            status: The response status.
            seconds: How long the request took.
        """
        method = method_label(method)
        self._requests[(("method", method), ("route", route), ("status", str(status)))] += 1
        self._latency[(("method", method), ("route", route))].observe(seconds)

    def render(self) -> str:
        """The Prometheus text exposition (version 0.0.4)."""
        lines = [
            "# HELP llm_sessions_http_requests_total HTTP requests by method, route and status.",
            "# TYPE llm_sessions_http_requests_total counter",
        ]
        for labels, count in sorted(self._requests.items()):
            lines.append(f"llm_sessions_http_requests_total{_format(labels)} {count}")
        lines += [
            "# HELP llm_sessions_http_request_duration_seconds Request latency.",
            "# TYPE llm_sessions_http_request_duration_seconds histogram",
        ]
        for labels, histogram in sorted(self._latency.items()):
            lines += _histogram_lines(labels, histogram)
        for name, value, text in (
            ("llm_sessions_store_errors_total", self.store_errors, "Store operations that failed."),
            ("llm_sessions_sessions_created_total", self.sessions_created, "Sessions created."),
            ("llm_sessions_events_written_total", self.events_written, "Events written."),
        ):
            lines += [f"# HELP {name} {text}", f"# TYPE {name} counter", f"{name} {value}"]
        lines += [
            "# HELP llm_sessions_live_tails Live tails (SSE streams) open now.",
            "# TYPE llm_sessions_live_tails gauge",
            f"llm_sessions_live_tails {self.live_tails}",
        ]
        return "\n".join(lines) + "\n"


def _histogram_lines(labels: Labels, histogram: _Histogram) -> list[str]:
    name = "llm_sessions_http_request_duration_seconds"
    lines = []
    cumulative = 0
    for bound, count in zip(LATENCY_BUCKETS, histogram.counts, strict=True):
        cumulative += count
        lines.append(f"{name}_bucket{_format((*labels, ('le', repr(bound))))} {cumulative}")
    lines.append(f"{name}_bucket{_format((*labels, ('le', '+Inf')))} {histogram.total}")
    lines.append(f"{name}_sum{_format(labels)} {histogram.sum}")
    lines.append(f"{name}_count{_format(labels)} {histogram.total}")
    return lines


def _format(labels: Labels) -> str:
    def escape(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return "{" + ",".join(f'{key}="{escape(value)}"' for key, value in labels) + "}"
