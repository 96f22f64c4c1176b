"""side: our notes about objects of a library we do not own, kept beside them rather than on them.

A `SideTable` maps an object (a WeasyPrint style, box, layout or stream) to a value for as long as
the object lives, without writing an attribute onto it. WeasyPrint's styles are dicts, which
cannot be keys of a WeakKeyDictionary, so entries are keyed by identity and dropped by a weak
reference's callback when the object goes.
"""

from __future__ import annotations

import functools
import weakref
from typing import Generic, TypeVar

V = TypeVar("V")


class SideTable(Generic[V]):
    """Values noted about objects, each entry living as long as its object."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[weakref.ref[object], V]] = {}

    def get(self, owner: object) -> V | None:
        """The value noted for `owner`, or None."""
        entry = self._entries.get(id(owner))
        return entry[1] if entry is not None and entry[0]() is owner else None

    def set(self, owner: object, value: V) -> V:
        """Note `value` for `owner`, and return it."""
        key = id(owner)
        entry = self._entries.get(key)
        if entry is not None and entry[0]() is owner:
            self._entries[key] = (entry[0], value)
        else:
            self._entries[key] = (weakref.ref(owner, functools.partial(self._drop, key)), value)
        return value

    def _drop(self, key: int, _: object) -> None:
        entry = self._entries.get(key)
        if entry is not None and entry[0]() is None:
            del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)
