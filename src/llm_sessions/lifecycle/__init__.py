"""The sandboxed TTL session layer (the seed's ``chuk_sessions``).

``LifecycleManager`` (``SessionManager`` in the originals) allocates, validates and expires
sessions scoped by sandbox, and builds grid paths
(``grid/{sandbox_id}/{session_id}/{artifact_id}``).
``provider_factory.factory_for_env()`` picks the key-value provider underneath (memory or Redis)
from the environment.
"""

from __future__ import annotations

from .manager import LifecycleManager, SessionManager
from .models import SessionInfo
from .protocol import KeyValueSession, ProviderFactory, SessionFactory
from .provider_factory import aclose_factories, factory_for_env
from .providers._memory import MemoryProviderFactory, MemoryStore

__all__ = [
    "KeyValueSession",
    "LifecycleManager",
    "MemoryProviderFactory",
    "MemoryStore",
    "ProviderFactory",
    "SessionFactory",
    "SessionInfo",
    "SessionManager",
    "aclose_factories",
    "factory_for_env",
]
