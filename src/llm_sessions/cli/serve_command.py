"""``llm-sessions serve``: the HTTP API under uvicorn (the ``server`` extra)."""

from __future__ import annotations

import copy
import ipaddress
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import parse_qsl, urlencode

import typer

from ..storage._retention import format_duration
from ..storage.redis import redact_url
from . import serve_limits as limits
from .common import DEFAULT_STORE, CliError, StoreOption, console, run_on_store

if TYPE_CHECKING:
    from ..server.auth import ApiKeys

__all__ = ["is_loopback", "serve", "shown_store_url", "startup_lines"]

_SECRET_QUERY_KEYS = {"password", "passwd", "sslpassword"}


def is_loopback(host: str) -> bool:
    """Whether ``host`` is only reachable from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def shown_store_url(url: str) -> str:
    """``url`` as it may be printed: a password in it, or in its query, shows as ``***``.

    Args:
        url: A store URL.

    Returns:
        The URL with every password replaced by ``***``.
    """
    shown = redact_url(url)
    head, _, query = shown.partition("?")
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(key.lower() in _SECRET_QUERY_KEYS for key, _ in pairs):
        return shown
    hidden = [(key, "***" if key.lower() in _SECRET_QUERY_KEYS else value) for key, value in pairs]
    return f"{head}?{urlencode(hidden, safe='*:/')}"


def startup_lines(
    host: str,
    port: int,
    store: str,
    workers: int,
    keys: ApiKeys,
    access_log: bool,
    retention: str | None = None,
) -> list[str]:
    """What ``serve`` prints before it binds: where it listens, the store, workers and keys.

    Args:
        host: The interface to bind.
        port: The port (0: the system picks one, and uvicorn's own line names it).
        store: The store URL (its password is hidden).
        workers: How many worker processes.
        keys: The server's ``ApiKeys``.
        access_log: Whether requests are logged.
        retention: The retention policy applied and how often, as text (None: none).

    Returns:
        The lines, in order.
    """
    shown_host = f"[{host}]" if ":" in host else host
    base = f"http://{shown_host}:{port}"
    listening = base if port else f"{base} (the system picks the port: see the line below)"
    if keys:
        key_text = f"{len(keys)} API keys, {len(keys.tenants)} tenants"
    else:
        key_text = "none: one tenant, the whole store, on loopback only"
    return [
        "llm-sessions serve",
        f"  listening on  {listening}",
        f"  inspector     {base}/",
        f"  API docs      {base}/docs",
        f"  store         {shown_store_url(store)}",
        f"  workers       {workers}",
        f"  API keys      {key_text}",
        f"  access log    {'on (--no-access-log turns it off)' if access_log else 'off'}",
        f"  retention     {retention or 'none (--retention sets a policy)'}",
    ]


def _log_config(port: int) -> dict[str, Any]:
    """uvicorn's own logging set-up, with its start-up chatter left out (``serve`` prints its
    own lines) unless the port is the system's pick, which only uvicorn's line can name."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["uvicorn.error"]["level"] = "INFO" if port == 0 else "WARNING"
    return config


KeysFileOption = Annotated[
    Path | None,
    typer.Option(
        "--keys-file",
        help=(
            "File with one key=tenant a line (also LLM_SESSIONS_API_KEYS_FILE; keys may also "
            "come from LLM_SESSIONS_API_KEYS)."
        ),
        show_default="none",
    ),
]
MaxBodyOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Largest request body accepted (bytes).",
        show_default="4 MiB = 4194304",
    ),
]
RetentionOption = Annotated[
    str | None,
    typer.Option(
        help=(
            "Apply a retention policy as the server starts and every --retention-interval: "
            "name=value pairs such as max_age=90d,max_idle=30d,keep_last_events=200 "
            "(also LLM_SESSIONS_RETENTION)."
        ),
        show_default="none",
    ),
]
RetentionIntervalOption = Annotated[
    str, typer.Option(help="How often --retention is applied (a duration such as 1h, 30m).")
]
AccessLogOption = Annotated[
    bool,
    typer.Option("--access-log/--no-access-log", help="Log each request, in uvicorn's format."),
]


def serve(
    store: StoreOption = DEFAULT_STORE,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    keys_file: KeysFileOption = None,
    max_body_bytes: MaxBodyOption = None,
    access_log: AccessLogOption = True,
    # Limits on what clients can hold (see serve_limits).
    max_tails_per_key: limits.MaxTailsPerKey = 16,
    max_tails: limits.MaxTails = 128,
    metrics_key: limits.MetricsKey = None,
    header_timeout: limits.HeaderTimeout = 10.0,
    body_timeout: limits.BodyTimeout = 30.0,
    write_timeout: limits.WriteTimeout = 30.0,
    keep_alive_timeout: limits.KeepAliveTimeout = 5,
    limit_concurrency: limits.LimitConcurrency = 512,
    retention: RetentionOption = None,
    retention_interval: RetentionIntervalOption = "1h",
) -> None:
    """Serve the sessions of a store over HTTP, with the web inspector at http://HOST:PORT/.

    The API is OpenAI Conversations compatible, plus our own; its docs are at /docs. Without
    API keys the server binds to loopback only and refuses a public interface. The store is
    reached before the server binds: a store it cannot use stops it with exit code 1.
    """
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
    settings = {**limit_env}
    if keys_file is not None:
        settings["keys_file"] = str(keys_file)
    if max_body_bytes is not None:
        settings["max_body_bytes"] = str(max_body_bytes)
    if retention is not None:
        settings.update(retention=retention, retention_interval=retention_interval)
    _start(store, host, port, workers, access_log, settings, uvicorn_limits)


def _start(
    store: str,
    host: str,
    port: int,
    workers: int,
    access_log: bool,
    settings: dict[str, str],
    uvicorn_options: dict[str, Any],
) -> None:
    """Check the keys and reach the store, say where the server is, then run uvicorn."""
    try:
        import uvicorn

        from ..server.app import KEYS_FILE_ENV, MAX_BODY_ENV, STORE_ENV, app_from_environment
        from ..server.health import probe_store
        from ..server.inspector.logins import SESSION_SECRET_ENV
        from ..server.retention_task import RETENTION_ENV, RETENTION_INTERVAL_ENV
    except ImportError as exc:
        raise CliError(f'{exc}. Install the server: pip install "llm-sessions[server]"') from exc
    names = {
        "keys_file": KEYS_FILE_ENV,
        "max_body_bytes": MAX_BODY_ENV,
        "retention": RETENTION_ENV,
        "retention_interval": RETENTION_INTERVAL_ENV,
    }
    env = {names.get(name, name): value for name, value in settings.items()}
    env[STORE_ENV] = store
    # Checked here, before binding; the workers read the same settings from the environment.
    state = app_from_environment({**os.environ, **env}).state.llm_sessions
    keys = state.keys
    if not keys and not is_loopback(host):
        raise CliError(
            f"refusing to serve on {host} without API keys: set LLM_SESSIONS_API_KEYS or "
            "--keys-file, or bind to 127.0.0.1"
        )
    run_on_store(store, probe_store, create=True)
    schedule = state.retention
    shown_retention = None
    if schedule is not None:
        described = ",".join(f"{k}={v}" for k, v in schedule.policy.describe().items())
        shown_retention = f"{described} every {format_duration(schedule.period)}"
    lines = startup_lines(host, port, store, workers, keys, access_log, shown_retention)
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    os.environ.update(env)
    # One secret for every worker, so a login token signed by one is valid at all of them.
    os.environ.setdefault(SESSION_SECRET_ENV, secrets.token_hex(32))
    uvicorn.run(
        "llm_sessions.server.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=_log_config(port),
        access_log=access_log,
        **uvicorn_options,
    )
