"""``llm-sessions serve``: the HTTP API under uvicorn (the ``server`` extra)."""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from typing import Annotated

import typer

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
) -> None:
    """Serve the sessions of STORE over HTTP (OpenAI Conversations compatible, plus our own API),
    with the web inspector at / (open http://HOST:PORT/ in a browser).

    Without API keys the server binds to loopback only and refuses a public interface.
    """
    try:
        import uvicorn

        from ..server.app import KEYS_FILE_ENV, MAX_BODY_ENV, STORE_ENV, app_from_environment
        from ..server.inspector.logins import SESSION_SECRET_ENV
    except ImportError as exc:
        raise CliError(f'{exc}. Install the server: pip install "llm-sessions[server]"') from exc
    settings = {STORE_ENV: store}
    if keys_file is not None:
        settings[KEYS_FILE_ENV] = str(keys_file)
    if max_body_bytes is not None:
        settings[MAX_BODY_ENV] = str(max_body_bytes)
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
    # One secret for every worker, so a login token signed by one is valid at all of them.
    os.environ.setdefault(SESSION_SECRET_ENV, secrets.token_hex(32))
    uvicorn.run(
        "llm_sessions.server.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )
