"""An old import path, kept working (see ``llm_sessions.compat``)."""

from llm_sessions.compat import alias

alias(__name__)
