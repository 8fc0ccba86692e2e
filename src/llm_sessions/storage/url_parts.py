"""An old import path, kept working (see ``llm_sessions.compat``)."""

from typing import TYPE_CHECKING

from llm_sessions.compat import alias

if TYPE_CHECKING:  # the names, for type checkers
    from llm_sessions.storage._url_parts import *  # noqa: F403

alias(__name__)
