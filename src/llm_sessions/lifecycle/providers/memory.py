"""Old path of the memory provider (now ``_memory``), kept for imports (see ``compat``)."""

from ._memory import DEFAULT_MAX_ENTRIES, MemoryProviderFactory, MemorySession, MemoryStore, factory

__all__ = [
    "DEFAULT_MAX_ENTRIES",
    "MemoryProviderFactory",
    "MemorySession",
    "MemoryStore",
    "factory",
]
