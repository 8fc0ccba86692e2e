"""The originals' lifecycle error names, as names for this library's errors.

``except SessionError`` catches every error the library raises; ``except ProviderError`` catches
a provider (memory or Redis) failing, which the library raises as ``StorageError``.
"""

from ..exceptions import SessionManagerError, StorageError

SessionError = SessionManagerError
ProviderError = StorageError

__all__ = ["ProviderError", "SessionError"]
