"""A bounded, thread-safe least-recently-used map (the Diagnoser's inference memo).

Bounded twice: by entries and by total weight (the Diagnoser weighs an
inference by its rule firings, which is what its memory grows with), so a
few huge fleets cannot hold as much memory as a thousand small sites. The
lock guards the map only while it is read or changed, never while a value is
computed: a caller never waits for another's engine call, and two threads
that miss the same key both compute it (and store equal values).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Hashable


class LRU:
    """At most ``maxsize`` entries and ``max_weight`` total weight; least recently used out first."""

    def __init__(self, maxsize: int, max_weight: int):
        self.maxsize = maxsize
        self.max_weight = max_weight
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Any | None:
        """The value stored for ``key`` (now the most recently used), or None."""
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return found[0]

    def put(self, key: Hashable, value: Any, weight: int = 1) -> None:
        """Store ``value``, dropping the least recently used entries beyond the
        bounds; a value heavier than ``max_weight`` on its own is not stored."""
        if self.maxsize <= 0 or weight > self.max_weight:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._weight -= old[1]
            self._items[key] = (value, weight)
            self._weight += weight
            while len(self._items) > self.maxsize or self._weight > self.max_weight:
                _, (_, dropped) = self._items.popitem(last=False)
                self._weight -= dropped

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._weight = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def weight(self) -> int:
        return self._weight
