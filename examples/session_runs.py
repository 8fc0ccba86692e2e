"""Runs: one session, several units of work (a run each), with their status, the events each
produced (``task_id``) and the tokens each cost.

    python examples/session_runs.py
"""

# expect: run summarise: completed, 2 events
# expect: run translate: failed (the glossary service is down), 1 events
# expect: active run: none

from __future__ import annotations

import asyncio

from _model import MODEL, mode, say

from llm_sessions.models.event_source import EventSource
from llm_sessions.models.session import Session
from llm_sessions.models.session_event import SessionEvent
from llm_sessions.models.session_run import SessionRun
from llm_sessions.storage import InMemorySessionStore


async def record(session: Session[str], run: SessionRun, text: str, source: EventSource) -> None:
    event = await SessionEvent.create_with_tokens(
        message=text, prompt=text, model=MODEL, source=source, task_id=run.id
    )
    await session.add_event_and_save(event)


async def main() -> None:
    print(mode())
    store = InMemorySessionStore()
    session = await Session.create(store=store)

    summarise = await SessionRun.create(metadata={"task": "summarise"})
    session.runs.append(summarise)
    await summarise.mark_running()
    request = "Summarise: the meeting moved the launch to May."
    await record(session, summarise, request, EventSource.USER)
    answer, _ = await say([{"role": "user", "content": request}], "Launch moved to May.")
    await record(session, summarise, answer, EventSource.LLM)
    await summarise.mark_completed()

    translate = await SessionRun.create(metadata={"task": "translate"})
    session.runs.append(translate)
    await translate.mark_running()
    await record(session, translate, "Translate the summary into French.", EventSource.USER)
    await translate.mark_failed("the glossary service is down")
    await store.save(session)

    saved = await store.get(session.id)
    assert saved is not None
    usage = await saved.get_token_usage_by_run()
    for run in saved.runs:
        events = [event for event in saved.events if event.task_id == run.id]
        reason = run.metadata.get("failure_reason")
        status = run.status.value + (f" ({reason})" if reason else "")
        tokens = usage[run.id].total_tokens if run.id in usage else 0
        print(f"run {run.metadata['task']}: {status}, {len(events)} events, {tokens} tokens")
    print(f"active run: {saved.active_run.id if saved.active_run else 'none'}")


if __name__ == "__main__":
    asyncio.run(main())
