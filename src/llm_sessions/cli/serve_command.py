"""``llm-sessions serve``: the HTTP API under uvicorn (the ``server`` extra)."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated

import typer

from . import serve_limits as limits
from .common import DEFAULT_STORE, CliError, StoreOption, console

__all__ = ["is_loopback", "serve"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` is only reachable from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    store: StoreOption = DEFAULT_STORE,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    keys_file: Annotated[
        Path | None,
        typer.Option(
            "--keys-file", help="File with one key=tenant a line (also: LLM_SESSIONS_API_KEYS)."
        ),
    ] = None,
    max_body_bytes: Annotated[
        int | None, typer.Option(min=1, help="Largest request body accepted (bytes).")
    ] = None,
    # Limits on what clients can hold (see serve_limits).
    max_tails_per_key: limits.MaxTailsPerKey = 16,
    max_tails: limits.MaxTails = 128,
    metrics_key: limits.MetricsKey = None,
    header_timeout: limits.HeaderTimeout = 10.0,
    body_timeout: limits.BodyTimeout = 30.0,
    write_timeout: limits.WriteTimeout = 30.0,
    keep_alive_timeout: limits.KeepAliveTimeout = 5,
    limit_concurrency: limits.LimitConcurrency = 512,
) -> None:
    """Serve the sessions of STORE over HTTP (OpenAI Conversations compatible, plus our own API),
    with the web inspector at / (open http://HOST:PORT/ in a browser).

    Without API keys the server binds to loopback only and refuses a public interface.
    """
    try:
        import uvicorn

        from ..server.app import KEYS_FILE_ENV, MAX_BODY_ENV, STORE_ENV, app_from_environment
    except ImportError as exc:
        raise CliError(f'{exc}. Install the server: pip install "llm-sessions[server]"') from exc
    settings = {STORE_ENV: store}
    if keys_file is not None:
        settings[KEYS_FILE_ENV] = str(keys_file)
    if max_body_bytes is not None:
        settings[MAX_BODY_ENV] = str(max_body_bytes)
    limit_env, uvicorn_limits = limits.limit_settings(
        loopback=is_loopback(host),
        max_tails_per_key=max_tails_per_key,
        max_tails=max_tails,
        metrics_key=metrics_key,
        header_timeout=header_timeout,
        body_timeout=body_timeout,
        write_timeout=write_timeout,
        keep_alive_timeout=keep_alive_timeout,
        limit_concurrency=limit_concurrency,
    )
    settings.update(limit_env)
    # Checked here, before binding; the workers read the same settings from the environment.
    keys = app_from_environment({**os.environ, **settings}).state.llm_sessions.keys
    if not keys and not is_loopback(host):
        raise CliError(
            f"refusing to serve on {host} without API keys: set LLM_SESSIONS_API_KEYS or "
            "--keys-file, or bind to 127.0.0.1"
        )
    if keys:
        console.print(f"llm-sessions serve: {len(keys)} API keys, {len(keys.tenants)} tenants")
    else:
        console.print("llm-sessions serve: no API keys configured; serving on loopback only")
    os.environ.update(settings)
    uvicorn.run(
        "llm_sessions.server.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        **uvicorn_limits,
    )
