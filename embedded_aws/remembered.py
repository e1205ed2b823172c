"""A memo several threads share: an answer computed outside the lock (two threads may both
compute it the first time; the answers are equal), kept once computed. A computation that raises
keeps nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Answer = TypeVar("Answer")


class Remembered(Generic[Answer]):
    def __init__(self) -> None:
        self._known: dict[Hashable, Answer] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Answer]) -> Answer:
        with self._lock:
            if key in self._known:
                return self._known[key]
        answer = compute()
        with self._lock:
            return self._known.setdefault(key, answer)
