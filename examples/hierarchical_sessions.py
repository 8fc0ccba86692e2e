"""Parent and child sessions: a research task split into sub-tasks, each a child session;
ancestors and descendants read back from the store, and a child's prompt that carries its
parent's context.

    python examples/hierarchical_sessions.py
"""

# expect: children of research: outline, sources
# expect: ancestors of citations: sources, research
# expect: descendants of research: outline, sources, citations
# expect: parent context in the child's prompt: True

from __future__ import annotations

import asyncio

from llm_sessions.models.event_source import EventSource
from llm_sessions.models.session import Session
from llm_sessions.models.session_event import SessionEvent
from llm_sessions.session_prompt_builder import PromptStrategy, build_prompt_from_session
from llm_sessions.storage import InMemorySessionStore


async def say(session: Session[str], text: str, source: EventSource) -> None:
    event = await SessionEvent.create_with_tokens(message=text, prompt=text, source=source)
    await session.add_event_and_save(event)


async def main() -> None:
    store = InMemorySessionStore()
    research = await Session.create(store=store, id="research")
    await say(research, "Write a short report on heat pumps.", EventSource.USER)
    await say(research, "I will outline it and collect sources.", EventSource.LLM)

    outline = await Session.create("research", store=store, id="outline")
    sources = await Session.create("research", store=store, id="sources")
    citations = await Session.create("sources", store=store, id="citations")
    await say(citations, "Format the three sources as APA citations.", EventSource.USER)

    research = await store.get("research") or research  # reload: children were linked
    print(f"children of research: {', '.join(research.child_ids)}")
    ancestors = await citations.ancestors()
    print(f"ancestors of citations: {', '.join(s.id for s in ancestors)}")
    descendants = await research.descendants()
    print(f"descendants of research: {', '.join(s.id for s in descendants)}")
    print(f"outline's parent: {outline.parent_id}, sources' parent: {sources.parent_id}")

    prompt = await build_prompt_from_session(
        citations, PromptStrategy.HIERARCHICAL, include_parent_context=True
    )
    carries = any("heat pumps" in str(message.get("content")) for message in prompt)
    print(f"parent context in the child's prompt: {carries}")
    for message in prompt:
        print(f"  {message['role']}: {str(message.get('content'))[:70]}")


if __name__ == "__main__":
    asyncio.run(main())
