"""OpenAI chat completions that read from and record into a session (the ``openai`` extra).

::

    from openai import AsyncOpenAI
    from llm_sessions.integrations.openai import chat

    client = AsyncOpenAI()
    answer = await chat(client, session.id, model="gpt-4o-mini",
                        user_message="What's the weather in Tokyo?")

``chat`` sends the session as chat messages (``build_prompt_from_session`` with the
CONVERSATION strategy), records each reply with the usage the API reports, runs the reply's tool
calls through a ``SessionAwareToolProcessor``, and asks again (the results are now part of the
session) until the model answers without tool calls; it returns that answer's text.

Errors: errors of the API (``openai.OpenAIError`` and its subclasses: ``APIStatusError``,
``RateLimitError``, ``APIConnectionError``, ...) propagate unchanged, after the failed request is
recorded as a failed ``SessionRun`` (metadata ``kind: "llm_call"``, ``model``, ``round``,
``error_type``, ``status_code``; the message in ``failure_reason``). Tool failures never raise:
they go back to the model as tool results. A model that still asks for tools after
``max_tool_rounds`` rounds raises ``ToolProcessingError`` (its reply is recorded, its calls are
not run).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

try:
    import openai
except ImportError as exc:
    raise ImportError(
        "llm_sessions.integrations.openai needs the openai package: "
        'pip install "llm-sessions[openai]"'
    ) from exc

from openai.types.chat import ChatCompletion, ChatCompletionMessage

from ..exceptions import InvalidInputError, InvalidSessionOperation, ToolProcessingError
from ..models import EventSource, Session, SessionEvent, SessionRun
from ..prompting import PromptStrategy, build_prompt_from_session
from ..tool_processing import SessionAwareToolProcessor
from ..tool_processing.execution import describe_exception
from ..tool_processing.options import check_count, check_text

__all__ = ["chat"]

_RESERVED = frozenset({"model", "messages", "stream"})


async def chat(
    client: openai.AsyncOpenAI,
    session_id: str,
    *,
    model: str,
    user_message: str | None = None,
    tools: Sequence[Mapping[str, Any]] | None = None,
    processor: SessionAwareToolProcessor | None = None,
    max_tool_rounds: int = 5,
    max_prompt_tokens: int | None = None,
    **create_kwargs: Any,
) -> str:
    """Ask ``model`` to continue the session, running the tools it calls; return its answer.

    Args:
        client: The OpenAI client (its errors propagate: see the module docstring).
        session_id: The session to continue.
        model: The model to ask.
        user_message: A user message to record first.
        tools: OpenAI tool schemas (default: the processor registry's tools, if any).
        processor: The tool processor (default: a new one for ``session_id`` and ``model``).
        max_tool_rounds: The most rounds of tool calls before giving up.
        max_prompt_tokens: A budget for each prompt (the oldest history goes first).
        **create_kwargs: More arguments for ``client.chat.completions.create`` (no streaming).

    Returns:
        The model's final answer.

    Raises:
        ToolProcessingError: Tools still called after ``max_tool_rounds`` rounds.
    """
    check_text("model", model)
    rounds = check_count("max_tool_rounds", max_tool_rounds)
    request = _request_options(create_kwargs)
    processor = processor or SessionAwareToolProcessor(session_id, model=model)
    if processor.session_id != session_id:
        raise InvalidInputError(
            "processor", processor.session_id, f"belongs to another session than {session_id!r}"
        )
    session = await processor.load_session()
    if user_message is not None:
        await _record_user_message(session, check_text("user_message", user_message), model)
    specs = processor.registry.to_openai_tools() if tools is None else [dict(t) for t in tools]
    if specs:
        request["tools"] = specs
    for round_number in range(1, rounds + 2):
        messages = await build_prompt_from_session(
            session, PromptStrategy.CONVERSATION, max_tokens=max_prompt_tokens, model=model
        )
        completion = await _complete(client, session, model, messages, request, round_number)
        message = _first_message(completion)
        if not message.tool_calls or round_number > rounds:
            await processor.record_reply(message, usage=completion.usage)
            if message.tool_calls:
                raise _too_many_rounds(message, rounds)
            return message.content or ""
        await processor.process_llm_message(message, None, usage=completion.usage)
        session = await processor.load_session()
    raise AssertionError("unreachable: the last round returns or raises")


def _request_options(create_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    for key in _RESERVED & create_kwargs.keys():
        if key != "stream" or create_kwargs[key]:
            raise InvalidInputError(key, create_kwargs[key], "is set by chat(), do not pass it")
    return dict(create_kwargs)


async def _record_user_message(session: Session[Any], text: str, model: str) -> None:
    event = await SessionEvent.create_with_tokens(
        message=text, prompt=text, model=model, source=EventSource.USER
    )
    await session.add_event_and_save(event)


async def _complete(
    client: openai.AsyncOpenAI,
    session: Session[Any],
    model: str,
    messages: list[dict[str, Any]],
    request: Mapping[str, Any],
    round_number: int,
) -> ChatCompletion:
    try:
        return await client.chat.completions.create(
            model=model,
            messages=messages,  # type: ignore[arg-type]  # typed dicts; ours are plain dicts
            **request,
        )
    except openai.OpenAIError as exc:
        await _record_failed_call(session, model, round_number, exc)
        raise


async def _record_failed_call(
    session: Session[Any], model: str, round_number: int, exc: openai.OpenAIError
) -> None:
    run = await SessionRun.create(
        metadata={
            "kind": "llm_call",
            "model": model,
            "round": round_number,
            "error_type": type(exc).__name__,
            "status_code": getattr(exc, "status_code", None),
        }
    )
    await run.mark_running()
    await run.mark_failed(describe_exception(exc))
    session.runs.append(run)
    await session.store.save(session)


def _first_message(completion: ChatCompletion) -> ChatCompletionMessage:
    if not completion.choices:
        raise InvalidSessionOperation("read the model's reply", "the API returned no choices")
    return completion.choices[0].message


def _too_many_rounds(message: ChatCompletionMessage, rounds: int) -> ToolProcessingError:
    names = ", ".join(
        call.function.name for call in message.tool_calls or () if call.type == "function"
    )
    return ToolProcessingError(
        names or "?", f"the model still asked for tools after {rounds} tool rounds"
    )
