"""Containers that check what is put in them and tell their owner about it.

The dicts and lists inside an event's message and metadata, a run's metadata, and a session's
state and properties are these. An in-place edit (``event.metadata["k"] = v``) is checked like
any other assignment, so a session never holds what its store cannot write, and it marks the
owning event or run changed, so the next save rewrites it. Reads cost what a plain dict or list
costs; only the mutating methods are overridden.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, SupportsIndex

from ..validation import MAX_JSON_DEPTH, ensure_json_value, validate_key

__all__ = ["ChangeOwner", "TrackedDict", "TrackedList", "track"]


class ChangeOwner(Protocol):
    """What a container tells about an in-place edit (events and runs)."""

    def _mark_changed(self) -> None: ...


class _Tracked:
    """What both containers keep: the owner, the field's name, and how deep they sit."""

    __slots__ = ()
    _owner: ChangeOwner | None
    _field: str
    _room: int
    _strict_keys: bool

    def _checked(self, value: Any, label: str) -> Any:
        ensure_json_value(value, f"{self._field}{label}", max_depth=self._room)
        return track(value, self._owner, self._field, self._room)

    def _changed(self) -> None:
        if self._owner is not None:
            self._owner._mark_changed()

    def __reduce_ex__(self, protocol: SupportsIndex) -> Any:
        # Copies and pickles are plain containers: they belong to no owner.
        plain = dict if isinstance(self, dict) else list
        return (plain, (plain(self),))  # type: ignore[call-overload]


class TrackedDict(_Tracked, dict[str, Any]):
    """A dict of JSON values that checks every value set in it and reports each change."""

    __slots__ = ("_field", "_owner", "_room", "_strict_keys")

    def _item(self, key: Any, value: Any) -> Any:
        if self._strict_keys:
            validate_key(key, self._field)
        else:
            ensure_json_value({key: None}, self._field)
        return self._checked(value, f"[{key!r}]")

    def __setitem__(self, key: str, value: Any) -> None:
        dict.__setitem__(self, key, self._item(key, value))
        self._changed()

    def __delitem__(self, key: str) -> None:
        dict.__delitem__(self, key)
        self._changed()

    def update(self, *args: Any, **kwargs: Any) -> None:
        items = dict(*args, **kwargs)
        checked = {key: self._item(key, value) for key, value in items.items()}
        dict.update(self, checked)
        self._changed()

    def __ior__(self, other: Any) -> TrackedDict:  # type: ignore[override,misc]
        self.update(other)
        return self

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return dict.__getitem__(self, key)

    def pop(self, key: str, *default: Any) -> Any:
        if key not in self:
            return dict.pop(self, key, *default)
        value = dict.pop(self, key)
        self._changed()
        return value

    def popitem(self) -> tuple[str, Any]:
        item = dict.popitem(self)
        self._changed()
        return item

    def clear(self) -> None:
        dict.clear(self)
        self._changed()


class TrackedList(_Tracked, list[Any]):
    """A list of JSON values that checks every value put in it and reports each change."""

    __slots__ = ("_field", "_owner", "_room", "_strict_keys")

    def append(self, value: Any) -> None:
        list.append(self, self._checked(value, f"[{len(self)}]"))
        self._changed()

    def extend(self, values: Iterable[Any]) -> None:
        start = len(self)
        checked = [self._checked(v, f"[{start + n}]") for n, v in enumerate(values)]
        list.extend(self, checked)
        self._changed()

    def __iadd__(self, values: Iterable[Any]) -> TrackedList:  # type: ignore[misc]
        self.extend(values)
        return self

    def insert(self, index: SupportsIndex, value: Any) -> None:
        list.insert(self, index, self._checked(value, f"[{index}]"))
        self._changed()

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            value = [self._checked(v, f"[{index}]") for v in value]
        else:
            value = self._checked(value, f"[{index}]")
        list.__setitem__(self, index, value)
        self._changed()

    def __delitem__(self, index: Any) -> None:
        list.__delitem__(self, index)
        self._changed()

    def __imul__(self, times: SupportsIndex) -> TrackedList:
        list.__imul__(self, times)
        self._changed()
        return self

    def pop(self, index: SupportsIndex = -1) -> Any:
        value = list.pop(self, index)
        self._changed()
        return value

    def remove(self, value: Any) -> None:
        list.remove(self, value)
        self._changed()

    def clear(self) -> None:
        list.clear(self)
        self._changed()

    def sort(self, *args: Any, **kwargs: Any) -> None:
        list.sort(self, *args, **kwargs)
        self._changed()

    def reverse(self) -> None:
        list.reverse(self)
        self._changed()


_CONTAINERS = (dict, list)


def track(
    value: Any,
    owner: ChangeOwner | None,
    field: str,
    room: int = MAX_JSON_DEPTH,
    *,
    strict_keys: bool = False,
) -> Any:
    """``value`` with every dict and list in it replaced by a tracked copy (values unchanged).

    ``value`` must already be a checked JSON value; ``room`` is how many levels of nesting it
    may still hold, and ``strict_keys`` applies the stored-key rules to its own keys.
    """
    # Tuples, not ``dict | list``: isinstance with a tuple is the cheaper test, and this runs
    # for every event built.
    if isinstance(value, dict):
        tracked_dict = TrackedDict(value)
        tracked_dict._owner, tracked_dict._field = owner, field
        tracked_dict._room, tracked_dict._strict_keys = room - 1, strict_keys
        for key, item in value.items():  # most dicts are flat: nothing to replace
            if isinstance(item, _CONTAINERS):
                dict.__setitem__(tracked_dict, key, track(item, owner, field, room - 1))
        return tracked_dict
    if isinstance(value, list):
        tracked_list = TrackedList(value)
        tracked_list._owner, tracked_list._field = owner, field
        tracked_list._room, tracked_list._strict_keys = room - 1, False
        for index, item in enumerate(value):
            if isinstance(item, _CONTAINERS):
                list.__setitem__(tracked_list, index, track(item, owner, field, room - 1))
        return tracked_list
    return value
