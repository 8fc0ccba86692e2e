"""Which failures of a tool are worth another attempt.

A retry helps when the failure was transient: a timeout, a dropped connection, or an error the
tool itself marks as transient (by raising ``TransientToolError`` or an exception whose
``transient`` attribute is True). It does not help when the call itself was wrong: a
``LookupError`` (no weather station for 'Atlantis'), ``ValueError`` or ``TypeError`` would only
happen again, so they are never retried unless the tool marks them transient. Pass
``retry_on=`` to the processor to use another rule.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["RetryPredicate", "TransientToolError", "check_retry_on", "retry_transient"]

RetryPredicate = Callable[[BaseException], bool]
"""Given the exception a tool raised, whether to try the call again."""


class TransientToolError(Exception):
    """Raise this from a tool for a failure that may go away (a rate limit, a busy service)."""

    transient = True


def retry_transient(exc: BaseException) -> bool:
    """The default rule: retry what is marked transient, then timeouts and connection errors;
    nothing else (in particular never ``LookupError``, ``ValueError`` or ``TypeError``).

    Args:
        exc: The exception a tool call raised.

    Returns:
        Whether to try the call again.
    """
    if getattr(exc, "transient", False) is True:
        return True
    if isinstance(exc, LookupError | ValueError | TypeError):
        return False
    return isinstance(exc, TimeoutError | ConnectionError)


def check_retry_on(value: object) -> RetryPredicate:
    """``value`` if it is a callable rule, ``retry_transient`` for None."""
    from ..exceptions import InvalidInputError

    if value is None:
        return retry_transient
    if not callable(value):
        raise InvalidInputError("retry_on", value, "must be a callable(exception) -> bool or None")
    return value
