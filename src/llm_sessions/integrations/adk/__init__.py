"""Google ADK's session service on any llm_sessions store.

``pip install "llm-sessions[adk]"``, then::

    service = LLMSessionsSessionService(store="sqlite:///adk.db")
    runner = Runner(agent=agent, app_name="shop", session_service=service)

Sessions, their state (``app:`` and ``user:`` keys shared across the app's and the user's
sessions, ``temp:`` keys never stored) and their events are kept in the store; each ADK event
is kept whole and also recorded as an event of ours (text, function calls and responses, with
the tokens the model reported and their cost), so the CLI, the inspector and the totals see
the conversation.
"""

from __future__ import annotations

try:
    import google.adk.sessions  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        'llm_sessions.integrations.adk needs Google ADK: pip install "llm-sessions[adk]"'
    ) from exc

from ._events import ADK_EVENT_KEY
from ._service import STATE_SESSION_PREFIX, LLMSessionsSessionService

__all__ = ["ADK_EVENT_KEY", "STATE_SESSION_PREFIX", "LLMSessionsSessionService"]
