"""Where each kind of store keeps what it keeps beside its sessions (vectors, side records).

Each ``StoreBackend`` is one such kind of data; each kind of store declares how it makes
one for a store object (``declare``, called where the store's class is defined or in its
package's ``__init__``, which runs before any of its stores can exist). ``of`` finds the
maker through the store's class and its bases, so a subclass of a store keeps what the store
keeps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ..exceptions import InvalidInputError

__all__ = ["StoreBackend"]

_Backend = TypeVar("_Backend")
_Store = TypeVar("_Store")


class StoreBackend(Generic[_Backend]):
    """One kind of data a store keeps beside its sessions, and how each kind of store keeps it."""

    def __init__(self, what: str) -> None:
        self.what = what
        """What it is, for the error of a store that keeps none."""
        self._makers: dict[type, Callable[[Any], _Backend]] = {}

    def declare(self, store_class: type[_Store], make: Callable[[_Store], _Backend]) -> None:
        """Declare how the stores of ``store_class`` (and of its subclasses) keep it.

        Args:
            store_class: The kind of store.
            make: Makes the backend of one store object.
        """
        self._makers[store_class] = make

    def of(self, store: object) -> _Backend:
        """The backend of ``store``, made as the nearest of its classes declared.

        Args:
            store: A store.

        Returns:
            The backend.

        Raises:
            InvalidInputError: ``store``'s kind declared none.
        """
        for kind in type(store).__mro__:
            make = self._makers.get(kind)
            if make is not None:
                return make(store)
        raise InvalidInputError("store", type(store).__name__, f"keeps no {self.what}")
