"""What a process read of the registry, kept while the registry's change stamp stays the same.

The intakes name the same facilities, devices and meters in every message; reading them again
each time was a large part of a message's cost. `Stamped.current()` reads the stamp (one query)
and hands out the state kept for it, or a fresh one when the stamp moved on (any change to the
watched tables, by any process: `egsu.registry.stamp`) or the state grew past its bound, so that
memory stays flat however much of the registry a process meets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from egsu.registry.stamp import registry_stamp

State = TypeVar("State")


class Stamped(Generic[State]):
    """One state per process, made by `fresh` and dropped when the stamp changes or `size(state)`
    exceeds `limit`.

    Threads fill the state they were handed without a lock, each addition one dictionary or set
    operation (atomic under the interpreter's lock): two threads reading the same rows at once read
    them twice, and no thread waits on another's query. A state dropped while a thread still fills
    it is simply forgotten."""

    def __init__(self, fresh: Callable[[], State], size: Callable[[State], int], limit: int) -> None:
        self._lock = threading.Lock()  # the swap of the state, not its filling
        self._fresh, self._size, self._limit = fresh, size, limit
        self._stamp: str | None = None
        self._state: State = fresh()

    def current(self, using: str = "default") -> State:
        stamp = registry_stamp(using)
        with self._lock:
            if stamp != self._stamp or self._size(self._state) > self._limit:
                self._stamp, self._state = stamp, self._fresh()
            return self._state
