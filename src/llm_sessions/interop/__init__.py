"""Sessions in and out of stores: export, import and store-to-store copy.

One module per format, each with async ``dump(sessions) -> str`` and ``load(text) -> sessions``:

* ``jsonl``: a versioned header line per session, then one line per event; round-trips exactly
  (ids, timestamps, runs, state, infinite-conversation links).
* ``openai``: OpenAI chat messages (assistant tool calls each followed by their result).
* ``openai-responses``: Responses / Conversations API items.

``export_session(store, id, format=...)`` writes a whole conversation (every segment of an
infinite one); ``export_user(store, user_id)`` every session of a user, as JSON Lines;
``import_session(store, text, format=...)`` stores it all or nothing.
"""

from __future__ import annotations

from .transfer import (
    FORMATS,
    Format,
    OnConflict,
    conversation_of,
    detect_format,
    export_session,
    export_user,
    import_session,
)

__all__ = [
    "FORMATS",
    "Format",
    "OnConflict",
    "conversation_of",
    "detect_format",
    "export_session",
    "export_user",
    "import_session",
]
