"""The Agents SDK session records what each ``ModelResponse`` reported: its usage (and, with
``hooks=session.hooks``, the model that made it), with the real ``agents`` runner and a scripted
model (no network)."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("agents")

from agents import Agent, ModelResponse, RunConfig, Runner, Usage, function_tool
from agents.models.interface import Model
from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
)

from llm_sessions.integrations.openai_agents import LLMSessionsSession
from llm_sessions.models.token_usage import CountMethod
from llm_sessions.storage import InMemorySessionStore
from llm_sessions.tokens import cost_usd

AGENT_MODEL = "gpt-4.1"


def _reply(text: str) -> ResponseOutputMessage:
    content = [ResponseOutputText(type="output_text", text=text, annotations=[])]
    return ResponseOutputMessage(
        type="message", id="msg", role="assistant", status="completed", content=content
    )


class ScriptedModel(Model):
    """Asks for the weather tool (reporting 30 in, 8 out), then answers (52 in, 6 out)."""

    def __init__(self, usage: bool = True) -> None:
        self.model = AGENT_MODEL
        call = ResponseFunctionToolCall(
            type="function_call", call_id="call_1", name="weather", arguments='{"city":"Paris"}'
        )
        self.script: list[tuple[Any, int, int]] = [(call, 30, 8), (_reply("It is 21C."), 52, 6)]
        self.usage = usage

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        item, sent, received = self.script.pop(0)
        usage = Usage(
            requests=1, input_tokens=sent, output_tokens=received, total_tokens=sent + received
        )
        return ModelResponse(
            output=[item], usage=usage if self.usage else Usage(), response_id=None
        )

    def stream_response(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the scripted model does not stream")


@function_tool
def weather(city: str) -> str:
    """The temperature in a city."""
    return "21C"


async def _run(session: LLMSessionsSession, model: ScriptedModel, hooked: bool) -> None:
    agent = Agent(name="forecaster", model=model, tools=[weather])
    hooks = session.hooks if hooked else None
    config = RunConfig(tracing_disabled=True)
    result = await Runner.run(
        agent, "Weather in Paris?", session=session, run_config=config, hooks=hooks
    )
    assert result.final_output == "It is 21C."


async def test_each_response_records_its_reported_usage_and_model_with_the_hooks() -> None:
    store = InMemorySessionStore()
    session = LLMSessionsSession("hooked", store=store)
    await _run(session, ScriptedModel(), hooked=True)
    stored = await store.get("hooked")
    assert stored is not None
    call, reply = [e for e in stored.events if e.source.value == "llm"]
    for event, (sent, received) in ((call, (30, 8)), (reply, (52, 6))):
        usage = event.token_usage
        assert usage is not None
        assert (usage.prompt_tokens, usage.completion_tokens) == (sent, received)
        assert usage.model == AGENT_MODEL and usage.count_method is CountMethod.REPORTED
        assert event.metadata["model"] == AGENT_MODEL
    by_model = stored.token_summary.usage_by_model[AGENT_MODEL]
    assert (by_model.prompt_tokens, by_model.completion_tokens) == (82, 14)
    assert by_model.estimated_cost_usd == cost_usd(AGENT_MODEL, 82, 14)


async def test_without_the_hooks_the_runs_usage_is_recorded_priced_as_model() -> None:
    store = InMemorySessionStore()
    session = LLMSessionsSession("plain", store=store, model="gpt-4o")
    await _run(session, ScriptedModel(), hooked=False)
    stored = await store.get("plain")
    assert stored is not None
    outputs = [e.token_usage for e in stored.events if e.source.value == "llm"]
    assert [(u.prompt_tokens, u.completion_tokens, u.model) for u in outputs if u] == [
        (30, 8, "gpt-4o"),
        (52, 6, "gpt-4o"),
    ]
    assert all(u is not None and u.count_method is CountMethod.REPORTED for u in outputs)
    [user] = [e for e in stored.events if e.source.value == "user"]
    assert user.token_usage is not None
    assert user.token_usage.count_method is CountMethod.TOKENIZER


@pytest.mark.parametrize("hooked", [False, True], ids=["plain", "hooked"])
async def test_a_model_that_reports_no_usage_is_counted_with_the_tokenizer(hooked: bool) -> None:
    store = InMemorySessionStore()
    session = LLMSessionsSession("unreported", store=store)
    await _run(session, ScriptedModel(usage=False), hooked=hooked)
    stored = await store.get("unreported")
    assert stored is not None
    methods = {e.token_usage.count_method for e in stored.events if e.token_usage}
    assert methods == {CountMethod.TOKENIZER}
    assert set(stored.token_summary.usage_by_model) == {"gpt-4o-mini"}
