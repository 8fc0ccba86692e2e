"""Old import paths: every module path that users of earlier versions import still works.

Each old path is a module whose body is ``alias(__name__)`` (and, for type checkers, a star
import of its new home under ``TYPE_CHECKING``). A *moved* module's old path is the new module
itself (the same module object, so patching either patches both); a
*gathering* path re-exports the names of the modules listed (their ``__all__``, or the names
given as ``module:name`` / ``module:name as old_name``). ``tests/compat`` checks that every
entry resolves to the objects of its new home.

Old path -> now (all under ``llm_sessions``):

- ``storage.providers.memory`` -> ``storage.memory``
- ``storage.providers.file`` -> ``storage.file`` (``_store``)
- ``storage.providers.file_format`` -> ``storage.file._format``
- ``storage.providers.file_io`` -> ``storage.file._io``
- ``storage.providers.sqlite`` -> ``storage.sqlite`` (``_store``)
- ``storage.providers.sqlite_corruption`` -> ``storage.sqlite._corruption``
- ``storage.providers.postgres`` -> ``storage.postgres`` (``_store``)
- ``storage.providers.postgres_schema`` -> ``storage.postgres._schema``
- ``storage.providers.postgres_vacuum`` -> ``storage.postgres._vacuum``
- ``storage.providers.redis`` -> ``storage.redis`` (``_store``)
- ``storage.providers.redis_script`` -> ``storage.redis._script``
- ``storage.providers.redis_vacuum`` -> ``storage.redis._vacuum``
- ``redis_urls`` -> ``storage.redis`` (``_urls``)
- ``_redis_sentinel`` -> ``storage.redis._sentinel``
- ``storage.base`` -> ``storage`` (``_base``, ``_event_page``, ``_provider``)
- ``infinite_conversation`` -> ``conversations`` (``_infinite``)
- ``summaries`` -> ``conversations`` (``_summaries``)
- ``session_prompt_builder`` -> ``prompting`` (``_builder``)
- ``prompts`` -> ``prompting`` (``_builder``)
- ``event_tree`` -> ``views`` (``_event_tree``)
- ``session_manager`` -> ``api.manager``
- ``api.simple_api`` -> ``api.manager`` and ``api.helpers``
- ``session_aware_tool_processor`` -> ``tool_processing``
- ``lifecycle.session_manager`` -> ``lifecycle.manager``
- ``tool_processing.replies``, ``api.replies``, ``llm_response`` -> ``replies`` (``_read``)
- ``storage.header_edits`` -> ``storage._sync`` (``HeaderChanges`` is the one header diff)
- ``models.<name>``, ``storage.<name>``, ``prompting.<name>``, ``api.forks|system_prompt|turns``
  -> the same module with a leading underscore (implementation modules are private: import
  from the package)
- ``lifecycle.providers.memory`` -> ``lifecycle.providers._memory``, ``memory_factory``
- ``lifecycle.providers.redis`` -> ``lifecycle.providers._redis``, ``redis_factory``
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping

__all__ = ["GATHERED", "MOVED", "alias"]

_P = "llm_sessions."

MOVED: Mapping[str, str] = {
    _P + "storage.providers.memory": _P + "storage.memory",
    _P + "storage.providers.file": _P + "storage.file._store",
    _P + "storage.providers.file_format": _P + "storage.file._format",
    _P + "storage.providers.file_io": _P + "storage.file._io",
    _P + "storage.providers.sqlite": _P + "storage.sqlite._store",
    _P + "storage.providers.sqlite_corruption": _P + "storage.sqlite._corruption",
    _P + "storage.providers.postgres": _P + "storage.postgres._store",
    _P + "storage.providers.postgres_schema": _P + "storage.postgres._schema",
    _P + "storage.providers.postgres_vacuum": _P + "storage.postgres._vacuum",
    _P + "storage.providers.redis": _P + "storage.redis._store",
    _P + "storage.providers.redis_script": _P + "storage.redis._script",
    _P + "storage.providers.redis_vacuum": _P + "storage.redis._vacuum",
    _P + "redis_urls": _P + "storage.redis._urls",
    _P + "_redis_sentinel": _P + "storage.redis._sentinel",
    _P + "infinite_conversation": _P + "conversations._infinite",
    _P + "summaries": _P + "conversations._summaries",
    _P + "session_prompt_builder": _P + "prompting._builder",
    _P + "prompts": _P + "prompting._builder",
    _P + "event_tree": _P + "views._event_tree",
    _P + "session_manager": _P + "api.manager",
    _P + "lifecycle.session_manager": _P + "lifecycle.manager",
    _P + "tool_processing.replies": _P + "replies._read",
    _P + "llm_response": _P + "replies._read",
    _P + "api.replies": _P + "replies._read",
    _P + "storage.header_edits": _P + "storage._sync",
    _P + "models.event_list": _P + "models._event_list",
    _P + "models.event_source": _P + "models._event_source",
    _P + "models.event_type": _P + "models._event_type",
    _P + "models.session": _P + "models._session",
    _P + "models.session_event": _P + "models._session_event",
    _P + "models.session_metadata": _P + "models._session_metadata",
    _P + "models.session_run": _P + "models._session_run",
    _P + "models.token_usage": _P + "models._token_usage",
    _P + "models.tracked": _P + "models._tracked",
    _P + "storage.encryption": _P + "storage._encryption",
    _P + "storage.event_log": _P + "storage._event_log",
    _P + "storage.faults": _P + "storage._faults",
    _P + "storage.provider": _P + "storage._provider",
    _P + "storage.records": _P + "storage._records",
    _P + "storage.redaction": _P + "storage._redaction",
    _P + "storage.refresh": _P + "storage._refresh",
    _P + "storage.removals": _P + "storage._removals",
    _P + "storage.reseal": _P + "storage._reseal",
    _P + "storage.sync": _P + "storage._sync",
    _P + "storage.url": _P + "storage._url",
    _P + "storage.url_parts": _P + "storage._url_parts",
    _P + "storage.worker_thread": _P + "storage._worker_thread",
    _P + "prompting.budget": _P + "prompting._budget",
    _P + "prompting.custom": _P + "prompting._custom",
    _P + "prompting.event_view": _P + "prompting._event_view",
    _P + "prompting.groups": _P + "prompting._groups",
    _P + "prompting.parents": _P + "prompting._parents",
    _P + "prompting.render": _P + "prompting._render",
    _P + "prompting.strategies": _P + "prompting._strategies",
    _P + "prompting.tail": _P + "prompting._tail",
    _P + "prompting.truncate": _P + "prompting._truncate",
    _P + "api.forks": _P + "api._forks",
    _P + "api.system_prompt": _P + "api._system_prompt",
    _P + "api.turns": _P + "api._turns",
}
"""Old path -> the module it now is."""

GATHERED: Mapping[str, tuple[str, ...]] = {
    _P + "storage.base": (
        _P + "storage._base",
        _P + "storage._event_page",
        _P + "storage._provider",
    ),
    _P + "api.simple_api": (_P + "api.manager", _P + "api.helpers"),
    _P + "session_aware_tool_processor": (_P + "tool_processing",),
    _P + "lifecycle.providers.memory": (
        _P + "lifecycle.providers._memory",
        _P + "lifecycle.provider_factory:memory_factory as factory",
    ),
    _P + "lifecycle.providers.redis": (
        _P + "lifecycle.providers._redis",
        _P + "lifecycle.provider_factory:redis_factory as factory",
    ),
}
"""Old path -> the modules (or ``module:name [as old_name]``) whose names it re-exports."""


def alias(name: str) -> None:
    """Make the old module path ``name`` what ``MOVED`` or ``GATHERED`` says it now is.

    Args:
        name: the old module's ``__name__`` (call this from its body).

    Raises:
        KeyError: ``name`` is in neither table.
    """
    if name in MOVED:
        sys.modules[name] = importlib.import_module(MOVED[name])
        return
    module = sys.modules[name]
    exported: list[str] = []
    for spec in GATHERED[name]:
        source, _, picked = spec.partition(":")
        real = importlib.import_module(source)
        if picked:
            attribute, _, old_name = picked.partition(" as ")
            pairs = [(old_name or attribute, attribute)]
        else:
            pairs = [(item, item) for item in real.__all__]
        for old_name, attribute in pairs:
            setattr(module, old_name, getattr(real, attribute))
            exported.append(old_name)
    setattr(module, "__all__", exported)  # noqa: B010
