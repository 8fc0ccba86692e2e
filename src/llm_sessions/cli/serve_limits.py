"""The flags of ``llm-sessions serve`` that bound what clients can hold: tails, timeouts,
connections, and who may read ``/metrics``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

__all__ = [
    "BodyTimeout",
    "HeaderTimeout",
    "KeepAliveTimeout",
    "LimitConcurrency",
    "MaxTails",
    "MaxTailsPerKey",
    "MetricsKey",
    "WriteTimeout",
    "limit_settings",
]

MaxTailsPerKey = Annotated[
    int, typer.Option(min=1, help="Live tails one API key may hold open (more get 429).")
]
MaxTails = Annotated[
    int, typer.Option(min=1, help="Live tails a worker holds open in all (more get 503).")
]
MetricsKey = Annotated[
    str | None,
    typer.Option(
        envvar="LLM_SESSIONS_METRICS_KEY",
        help="A key for /metrics besides the API keys (off loopback /metrics needs one).",
    ),
]
HeaderTimeout = Annotated[
    float, typer.Option(min=0.001, help="Seconds a client has to send a request's headers.")
]
BodyTimeout = Annotated[
    float, typer.Option(min=0.001, help="Seconds a client has to send a request's body.")
]
WriteTimeout = Annotated[
    float,
    typer.Option(min=0.001, help="Seconds a client may leave a response unread before it is cut."),
]
KeepAliveTimeout = Annotated[
    int, typer.Option(min=1, help="Seconds an idle keep-alive connection stays open.")
]
LimitConcurrency = Annotated[
    int, typer.Option(min=1, help="Connections a worker serves at once (more get 503).")
]


def limit_settings(
    *,
    loopback: bool,
    max_tails_per_key: int,
    max_tails: int,
    metrics_key: str | None,
    header_timeout: float,
    body_timeout: float,
    write_timeout: float,
    keep_alive_timeout: int,
    limit_concurrency: int,
) -> tuple[dict[str, str], dict[str, Any]]:
    """What the limit flags become: environment for the app and its workers, and uvicorn's
    keyword arguments.

    Args:
        loopback: Whether the server binds to loopback only (then ``/metrics`` needs no key).
        max_tails_per_key: ``--max-tails-per-key``.
        max_tails: ``--max-tails``.
        metrics_key: ``--metrics-key``, or None.
        header_timeout: ``--header-timeout`` (seconds).
        body_timeout: ``--body-timeout`` (seconds).
        write_timeout: ``--write-timeout`` (seconds).
        keep_alive_timeout: ``--keep-alive-timeout`` (seconds).
        limit_concurrency: ``--limit-concurrency``.

    Returns:
        The environment variables to set, and the keyword arguments for ``uvicorn.run``.
    """
    from ..server.app import (
        MAX_TAILS_ENV,
        MAX_TAILS_PER_KEY_ENV,
        METRICS_KEY_ENV,
        METRICS_PUBLIC_ENV,
    )
    from ..server.connection_limits import PROTOCOL, ConnectionLimits

    connections = ConnectionLimits(
        header_timeout=header_timeout,
        body_timeout=body_timeout,
        write_timeout=write_timeout,
        keep_alive_timeout=keep_alive_timeout,
        limit_concurrency=limit_concurrency,
    )
    env = {
        MAX_TAILS_PER_KEY_ENV: str(max_tails_per_key),
        MAX_TAILS_ENV: str(max_tails),
        METRICS_PUBLIC_ENV: "1" if loopback else "0",
        **connections.environment(),
    }
    if metrics_key:
        env[METRICS_KEY_ENV] = metrics_key
    uvicorn_options = {
        "http": PROTOCOL,
        "timeout_keep_alive": keep_alive_timeout,
        "limit_concurrency": limit_concurrency,
    }
    return env, uvicorn_options
