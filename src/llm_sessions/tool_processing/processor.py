"""``SessionAwareToolProcessor``: run the tool calls of an LLM reply and record all of it.

Rules a user should know:

* A reply without tool calls is recorded and gives ``[]``; the callback is not called.
* The tool calls of a reply run concurrently, inside a ``SessionRun``. The run is completed when
  every call succeeded and failed (``failure_reason`` in its metadata) when any call did.
* A call that times out, or whose tool raises an error the ``retry_on`` rule calls transient, is
  retried up to ``max_retries`` times (delay ``retry_delay``, doubled each time). By default
  (``retry_transient``) that is timeouts, connection errors and errors the tool marks transient
  (``TransientToolError``, or ``exc.transient = True``), never ``LookupError``, ``ValueError``
  or ``TypeError``. A failing tool never makes ``process_llm_message`` raise: its
  ``ToolResult`` carries the error and its TOOL_CALL event says ``success: false``.
* Calls the model got wrong (an unknown tool, arguments that are not JSON or do not fit) are not
  retried by the processor. When *every* call of a reply is wrong, the model is asked again:
  ``llm_callback(prompt)`` with ``llm_retry_prompt`` (its ``{errors}`` replaced by the list of
  problems), up to ``max_llm_retries`` times. When only *some* calls are wrong, the valid ones run
  and the wrong ones come back as error results (an agent loop sends those errors to the model).
  If every attempt fails, the last attempt's error results are returned; nothing is raised.
* Every reply is an LLM MESSAGE event (metadata ``attempt``); every call, valid or not, is a
  TOOL_CALL event whose ``parent_event_id`` is that reply and whose ``task_id`` is the run.
* Identical calls (same tool, same canonical JSON arguments) are answered from a bounded cache
  when ``enable_caching`` is on; only successful results are cached.
* A ``process_text`` callable set on the processor (as the originals' examples do) replaces
  running the calls: it gets the reply as JSON text and returns the ``ToolResult``s, which are
  recorded as TOOL_CALL events of the reply (see ``overrides``).
* Bad input (a reply that is not a message, tool calls of the wrong shape) raises
  ``InvalidInputError`` before anything is recorded. Errors from the callback or the store
  propagate after the run is marked failed (or cancelled).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any, Self

from .. import telemetry
from ..exceptions import InvalidInputError, SessionNotFound
from ..models._base import utc_now
from ..models._session import Session
from ..models._session_event import SessionEvent
from ..models._session_run import SessionRun
from ..replies import AssistantReply, read_reply
from ..storage import SessionStoreInterface, refreshed
from ..storage._provider import SessionStoreProvider
from ..tools import ToolRegistry, get_default_registry
from ..validation import validate_id
from .cache import ResultCache, cache_key
from .events import reply_event, tool_event
from .execution import ExecutionPolicy, Outcome, describe_exception, execute_with_retries
from .options import check_count, check_seconds, check_text, check_timeout
from .overrides import process_text_override, results_from_process_text
from .planning import PlannedCall, plan_call
from .results import ToolResult
from .retry import RetryPredicate, check_retry_on

__all__ = ["DEFAULT_LLM_RETRY_PROMPT", "LLMCallback", "SessionAwareToolProcessor"]

DEFAULT_LLM_RETRY_PROMPT = (
    "None of the tool calls in your last reply could be run:\n{errors}\n"
    "Reply again with tool calls that name one of the available tools and pass arguments as a "
    "JSON object that fits that tool's parameters."
)
"""The default retry prompt; ``{errors}`` is replaced by one line per rejected call."""

LLMCallback = Callable[[str], Any]
"""Asks the model again: takes the retry prompt, returns (or returns an awaitable of) a reply."""


class SessionAwareToolProcessor:
    """Runs the tool calls an LLM asks for and records the reply, the calls and their results
    in a session (see the module docstring for the rules)."""

    def __init__(
        self,
        session_id: str,
        *,
        registry: ToolRegistry | None = None,
        store: SessionStoreInterface | None = None,
        enable_caching: bool = True,
        max_retries: int = 2,
        retry_delay: float = 0.1,
        retry_on: RetryPredicate | None = None,
        max_llm_retries: int = 2,
        llm_retry_prompt: str = DEFAULT_LLM_RETRY_PROMPT,
        timeout: float | None = 30.0,
        model: str = "gpt-4o-mini",
        cache_size: int = 256,
    ) -> None:
        self.session_id = validate_id(session_id)
        if registry is not None and not isinstance(registry, ToolRegistry):
            raise InvalidInputError("registry", registry, "must be a ToolRegistry")
        if store is not None and not isinstance(store, SessionStoreInterface):
            raise InvalidInputError("store", store, "must have async get, save, delete, list")
        self.enable_caching = bool(enable_caching)
        self.policy = ExecutionPolicy(
            timeout=check_timeout(timeout),
            max_retries=check_count("max_retries", max_retries),
            retry_delay=check_seconds("retry_delay", retry_delay),
            retry_on=check_retry_on(retry_on),
        )
        self.max_llm_retries = check_count("max_llm_retries", max_llm_retries)
        self.llm_retry_prompt = check_text("llm_retry_prompt", llm_retry_prompt)
        self.model = check_text("model", model)
        self._cache = ResultCache(check_count("cache_size", cache_size, minimum=1))
        self.registry = registry if registry is not None else get_default_registry()
        self.store = store if store is not None else SessionStoreProvider.get_store()
        self._session: Session[Any] | None = None

    @classmethod
    async def create(cls, session_id: str, **kwargs: Any) -> Self:
        """A processor for an existing session, its session loaded.

        Args:
            session_id: The session's id.
            **kwargs: The processor's options (``store``, ``registry``, ``timeout``,
                ``max_retries``, ``retry_on``, ``model``, ...).

        Returns:
            The processor.

        Raises:
            SessionNotFound: The store holds no session of that id.
        """
        processor = cls(session_id, **kwargs)
        await processor.load_session()
        return processor

    async def load_session(self) -> Session[Any]:
        """The session as the store holds it now. Once read, it is kept and brought up to
        date, reading only what changed (``store.refresh``).

        Returns:
            The session.

        Raises:
            SessionNotFound: The store holds no session of that id.
        """
        held = self._session
        if held is None:
            session = await self.store.get(self.session_id)
        else:
            session = await refreshed(self.store, held)
        self._session = session
        if session is None:
            raise SessionNotFound(self.session_id)
        return session

    def clear_cache(self) -> None:
        """Forget every cached tool result."""
        self._cache.clear()

    async def record_reply(self, llm_msg: object, *, usage: Any = None) -> SessionEvent[Any]:
        """Record an assistant reply as an LLM MESSAGE event without running its tool calls.

        Args:
            llm_msg: An OpenAI-style assistant message (a dict, ``ChatCompletionMessage`` or a
                whole ``ChatCompletion``).
            usage: The provider's reported usage (it wins over counting).

        Returns:
            The recorded event.
        """
        reply = read_reply(llm_msg)
        return await self._record_plain(await self.load_session(), reply, _usage(usage, reply))

    async def _record_plain(
        self, session: Session[Any], reply: AssistantReply, usage: Any
    ) -> SessionEvent[Any]:
        event = await reply_event(reply, attempt=1, model=self.model, run_id=None, usage=usage)
        await session.add_event_and_save(event)
        return event

    @telemetry.traced("llm_sessions.process_llm_message")
    async def process_llm_message(
        self, llm_msg: object, llm_callback: LLMCallback | None = None, *, usage: Any = None
    ) -> list[ToolResult]:
        """Record ``llm_msg``, run its tool calls concurrently and return their results.

        ``llm_msg`` is an OpenAI-style assistant message (a dict, ``ChatCompletionMessage`` or a
        whole ``ChatCompletion``); ``usage`` is the provider's reported usage for it (it wins
        over counting). ``llm_callback(prompt)`` is asked for a new reply when no call of a reply
        is valid; pass None to never ask. Results come in the order of the calls.

        Args:
            llm_msg: The assistant reply.
            llm_callback: Asked for a new reply (given the retry prompt) when no call is valid.
            usage: The provider's reported usage for the reply.

        Returns:
            One result per tool call, in the order of the calls (empty for a reply without
            calls).

        Raises:
            InvalidInputError: ``llm_callback`` is not callable, or the reply is not one.
            SessionNotFound: The session is not in the store.
        """
        reply = read_reply(llm_msg)
        if llm_callback is not None and not callable(llm_callback):
            raise InvalidInputError("llm_callback", llm_callback, "must be callable or None")
        session = await self.load_session()
        if not reply.tool_calls:
            await self._record_plain(session, reply, _usage(usage, reply))
            return []
        run = await SessionRun.create(metadata={"kind": "tool_processing"})
        await run.mark_running()
        session.runs.append(run)
        try:
            results, attempts = await self._attempts(
                session, run, reply, _usage(usage, reply), llm_callback
            )
        except asyncio.CancelledError:
            await run.mark_cancelled("cancelled while processing tool calls")
            await self.store.save(session)
            raise
        except Exception as exc:  # recorded on the run, then raised again unchanged
            await run.mark_failed(describe_exception(exc))
            await self.store.save(session)
            raise
        await self._finish(session, run, results, attempts)
        return results

    async def _attempts(
        self,
        session: Session[Any],
        run: SessionRun,
        reply: AssistantReply,
        usage: Any,
        callback: LLMCallback | None,
    ) -> tuple[list[ToolResult], int]:
        attempt = 1
        while True:
            llm_event = await reply_event(
                reply, attempt=attempt, model=self.model, run_id=run.id, usage=usage
            )
            await session.add_event_and_save(llm_event)
            override = process_text_override(self)
            if override is not None:
                results = await results_from_process_text(override, reply)
                unparsed: list[str | None] = [None] * len(results)
                recorded = await self._record(
                    session, run, llm_event.id, attempt, results, unparsed
                )
                return recorded, attempt
            plans = [plan_call(self.registry, call) for call in reply.tool_calls]
            results = await self._execute(plans)
            raw = [plan.undecodable for plan in plans]
            results = await self._record(session, run, llm_event.id, attempt, results, raw)
            nothing_valid = bool(plans) and not any(plan.valid for plan in plans)
            if not nothing_valid or callback is None or attempt > self.max_llm_retries:
                return results, attempt
            answer = callback(self._retry_prompt(results))
            if inspect.isawaitable(answer):
                answer = await answer
            reply = read_reply(answer, "llm_callback reply")
            usage = reply.usage
            attempt += 1

    def _retry_prompt(self, results: list[ToolResult]) -> str:
        errors = "\n".join(f"- {result.tool}: {result.error}" for result in results)
        return self.llm_retry_prompt.replace("{errors}", errors)

    async def _execute(self, plans: list[PlannedCall]) -> list[ToolResult]:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(self._execute_one(plan)) for plan in plans]
        return [task.result() for task in tasks]

    async def _execute_one(self, plan: PlannedCall) -> ToolResult:
        name = plan.request.name
        attributes = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name}
        if plan.request.id:
            attributes["gen_ai.tool.call.id"] = plan.request.id
        with telemetry.span(f"execute_tool {name}", attributes):
            result = await self._run_call(plan)
            outcome = "cached" if result.cached else "success" if result.succeeded else "error"
            if result.error_type is not None:
                telemetry.fail(result.error_type.value, result.error)
            telemetry.record_tool_call(name, outcome)
        return result

    async def _run_call(self, plan: PlannedCall) -> ToolResult:
        started_at, started = utc_now(), time.perf_counter()
        cached = False
        if plan.tool is None:
            outcome = Outcome(error=plan.error, error_type=plan.error_type)
        elif self.enable_caching:
            tool, parsed = plan.tool, plan.parsed
            outcome, cached = await self._cache.get_or_run(
                cache_key(tool.qualified_name, plan.arguments),
                lambda: execute_with_retries(tool, parsed, self.policy),
            )
        else:
            outcome = await execute_with_retries(plan.tool, plan.parsed, self.policy)
        return ToolResult(
            tool=plan.request.name,
            arguments=plan.arguments,
            result=outcome.value,
            error=outcome.error,
            error_type=outcome.error_type,
            tool_call_id=plan.request.id,
            start_time=started_at,
            end_time=utc_now(),
            duration=time.perf_counter() - started,
            attempts=outcome.attempts,
            cached=cached,
            failures=list(outcome.failures),
        )

    async def _record(
        self,
        session: Session[Any],
        run: SessionRun,
        parent_event_id: str,
        attempt: int,
        results: list[ToolResult],
        raw_arguments: list[str | None],
    ) -> list[ToolResult]:
        recorded: list[ToolResult] = []
        for result, raw in zip(results, raw_arguments, strict=True):
            event = await tool_event(
                result,
                parent_event_id=parent_event_id,
                run_id=run.id,
                model=self.model,
                llm_attempt=attempt,
                raw_arguments=raw,
            )
            await session.add_event(event)
            await run.add_tool_call(event.id)
            recorded.append(result.model_copy(update={"event_id": event.id}))
        await self.store.save(session)
        return recorded

    async def _finish(
        self, session: Session[Any], run: SessionRun, results: list[ToolResult], attempts: int
    ) -> None:
        failed = [result for result in results if not result.succeeded]
        await run.set_metadata("tool_calls", len(results))
        await run.set_metadata("failed", len(failed))
        await run.set_metadata("llm_attempts", attempts)
        if failed:
            problems = "; ".join(f"{result.tool}: {result.error}" for result in failed)
            await run.mark_failed(f"{len(failed)} of {len(results)} tool calls failed: {problems}")
        else:
            await run.mark_completed()
        await self.store.save(session)


def _usage(given: Any, reply: AssistantReply) -> Any:
    return given if given is not None else reply.usage
