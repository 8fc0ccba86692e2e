"""Running one validated tool call: a timeout per attempt, retries with exponential backoff.

Only failures a retry can fix are retried: a timeout, and an exception the policy's ``retry_on``
rule calls transient (see ``retry``). A result with no JSON form is not retried (the tool would
most likely return it again).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import JsonValue

from .. import telemetry
from ..exceptions import InvalidInputError
from ..tools import RegisteredTool, ToolExecutionError, to_json_value
from .failures import AttemptFailure, format_traceback
from .results import ToolErrorType
from .retry import RetryPredicate, retry_transient

__all__ = ["ExecutionPolicy", "Outcome", "describe_exception", "execute_with_retries"]


@dataclass(frozen=True, slots=True)
class ExecutionPolicy:
    """How long one attempt may take (None: no limit), how often to retry, the first delay
    between attempts (doubled after each retry), and which exceptions of a tool to retry."""

    timeout: float | None
    max_retries: int
    retry_delay: float
    retry_on: RetryPredicate = field(default=retry_transient)

    def delay_before(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        return self.retry_delay * 2.0 ** (retry - 1)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What executing a call came to: a JSON value, or an error and its kind."""

    value: JsonValue = None
    error: str | None = None
    error_type: ToolErrorType | None = None
    attempts: int = 0
    failures: tuple[AttemptFailure, ...] = ()
    """Every failed attempt, in order, with its exception and traceback."""
    retryable: bool = False
    """True for a failure another attempt may fix."""

    @property
    def ok(self) -> bool:
        """True when the tool returned a JSON value."""
        return self.error is None


def describe_exception(exc: BaseException) -> str:
    """``"ValueError: the message"`` (just the type name when the message is empty)."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def execute_with_retries(
    tool: RegisteredTool, arguments: Mapping[str, Any], policy: ExecutionPolicy
) -> Outcome:
    """Execute ``tool`` until it succeeds, fails in a way a retry cannot fix, or runs out of
    retries; the outcome's ``attempts`` says how many executions it took."""
    attempt = 1
    failures: list[AttemptFailure] = []
    while True:
        with telemetry.span("llm_sessions.tool.attempt", {"llm_sessions.tool.attempt": attempt}):
            outcome = await _attempt(tool, arguments, policy, attempt=attempt)
            if outcome.error_type is not None:
                telemetry.fail(outcome.error_type.value, outcome.error)
        failures.extend(outcome.failures)
        if outcome.ok or not outcome.retryable or attempt > policy.max_retries:
            return replace(outcome, attempts=attempt, failures=tuple(failures))
        await asyncio.sleep(policy.delay_before(attempt))
        attempt += 1


async def _attempt(
    tool: RegisteredTool, arguments: Mapping[str, Any], policy: ExecutionPolicy, *, attempt: int
) -> Outcome:
    limit = policy.timeout
    try:
        async with asyncio.timeout(limit):
            value = await tool.execute(arguments)
    except TimeoutError:  # the tool's own exceptions arrive wrapped in ToolExecutionError
        # A sync tool keeps running in its worker thread; only the wait for it ends here.
        error = f"timed out after {limit:g}s"
        failure = AttemptFailure(attempt=attempt, exception_type="TimeoutError", message=error)
        return Outcome(
            error=error, error_type=ToolErrorType.TIMEOUT, failures=(failure,), retryable=True
        )
    except ToolExecutionError as exc:
        original = exc.original
        failure = AttemptFailure(
            attempt=attempt,
            exception_type=type(original).__name__,
            message=str(original),
            traceback=format_traceback(original),
        )
        return Outcome(
            error=describe_exception(original),
            error_type=ToolErrorType.EXECUTION,
            failures=(failure,),
            retryable=bool(policy.retry_on(original)),
        )
    try:
        return Outcome(value=to_json_value(value))
    except InvalidInputError as exc:
        return Outcome(
            error=f"the result is not a JSON value: {exc.reason}",
            error_type=ToolErrorType.INVALID_RESULT,
        )
