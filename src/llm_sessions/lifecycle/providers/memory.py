"""Old path of the memory provider (now ``_memory``), kept for imports (see ``compat``)."""

from ..provider_factory import memory_factory as factory
from ._memory import DEFAULT_MAX_ENTRIES, MemoryProviderFactory, MemorySession, MemoryStore

__all__ = [
    "DEFAULT_MAX_ENTRIES",
    "MemoryProviderFactory",
    "MemorySession",
    "MemoryStore",
    "factory",
]
