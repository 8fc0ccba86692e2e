"""Key-value providers behind the lifecycle layer: ``memory`` (built in) and ``redis`` (extra).

``providers.redis`` (``_redis``) imports the redis driver, so it is imported only when asked for.
"""

from __future__ import annotations

from ._memory import MemoryProviderFactory, MemorySession, MemoryStore

__all__ = ["MemoryProviderFactory", "MemorySession", "MemoryStore"]
