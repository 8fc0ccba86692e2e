"""The limit flags of ``serve``: what they become, and bad values named."""

from __future__ import annotations

from typing import Any

import pytest

from llm_sessions.cli.serve_limits import limit_settings
from llm_sessions.exceptions import InvalidInputError
from llm_sessions.server.app import MAX_TAILS_ENV, METRICS_PUBLIC_ENV, app_from_environment
from llm_sessions.server.connection_limits import (
    HEADER_TIMEOUT_ENV,
    PROTOCOL,
    WRITE_TIMEOUT_ENV,
    ConnectionLimits,
)
from llm_sessions.server.tail_limits import TailLimits

FLAGS: dict[str, Any] = {
    "max_tails_per_key": 3,
    "max_tails": 7,
    "metrics_key": "metrics-key-0123456789",
    "header_timeout": 1.5,
    "body_timeout": 2.5,
    "write_timeout": 3.5,
    "keep_alive_timeout": 4,
    "limit_concurrency": 9,
}


@pytest.mark.parametrize(("loopback", "public"), [(True, "1"), (False, "0")])
def test_flags_become_environment_and_uvicorn_options(loopback: bool, public: str) -> None:
    env, options = limit_settings(loopback=loopback, **FLAGS)
    assert options == {"http": PROTOCOL, "timeout_keep_alive": 4, "limit_concurrency": 9}
    assert env[METRICS_PUBLIC_ENV] == public
    assert ConnectionLimits.from_environment(env) == ConnectionLimits(1.5, 2.5, 3.5)
    state = app_from_environment({"LLM_SESSIONS_STORE": "memory://", **env}).state.llm_sessions
    assert state.tail_limits == TailLimits(max_per_key=3, max_total=7)
    assert state.metrics_key == "metrics-key-0123456789"
    assert state.metrics_public is loopback


@pytest.mark.parametrize(
    ("build", "named"),
    [
        (lambda: ConnectionLimits(header_timeout=0), "header_timeout"),
        (lambda: ConnectionLimits(limit_concurrency=-1), "limit_concurrency"),
        (lambda: ConnectionLimits.from_environment({WRITE_TIMEOUT_ENV: "soon"}), "WRITE_TIMEOUT"),
        (lambda: ConnectionLimits.from_environment({HEADER_TIMEOUT_ENV: "-1"}), "header_timeout"),
        (lambda: TailLimits(max_per_key=0), "max_per_key"),
        (lambda: app_from_environment({MAX_TAILS_ENV: "many"}), MAX_TAILS_ENV),
    ],
)
def test_bad_limits_are_named(build: Any, named: str) -> None:
    with pytest.raises(InvalidInputError, match=named):
        build()
