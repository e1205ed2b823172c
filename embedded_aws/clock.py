"""Simulated time for the embedded AWS.

The clock's interface, and its one implementation:

- LogicalClock: every thread carries its own simulated time. Sleeping advances it without
  waiting; a thread starts at its creator's time; when a thread reads the clock after threads it
  started have finished (a Parallel branch, a Map iteration, a nested execution) it continues from
  the latest of them. Wall time never enters, so a run is deterministic and takes only the CPU
  time of the code it runs, whatever the simulated latencies.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

#: The simulated epoch: 2026-01-01T00:00:00Z, a fixed start so runs agree to the second.
DEFAULT_EPOCH = 1767225600.0
#: Threads whose names start with this keep no simulated time (servers that never end).
UNTIMED_PREFIX = "untimed-"


class Clock:
    epoch: float = DEFAULT_EPOCH

    def latest(self) -> float:
        """The furthest simulated moment reached (where a new, unrelated caller starts)."""
        return self.now()

    def set_thread_time(self, seconds: float) -> None:
        """Move the calling thread to `seconds` (clocks without per-thread time ignore it)."""

    def now(self) -> float:
        """Simulated seconds since the simulation started."""
        raise NotImplementedError

    def sleep(self, seconds: float) -> None:
        raise NotImplementedError

    def advance(self, seconds: float) -> None:
        """Charge `seconds` of simulated work to the calling thread (latency of a call)."""
        raise NotImplementedError

    def wall(self) -> float:
        """Simulated time as a Unix timestamp."""
        return self.epoch + self.now()

    def install(self, patch: Callable[[Any, str, Any], None]) -> None:
        """Start tracking threads (if the clock needs to), through the emulator's `patch`."""


class LogicalClock(Clock):
    def __init__(self, epoch: float = DEFAULT_EPOCH) -> None:
        self.epoch = epoch
        self._lock = threading.Lock()
        self._times: dict[threading.Thread, float] = {}  # live thread -> simulated time
        self._children: dict[threading.Thread, list[threading.Thread]] = {}
        self._latest = 0.0  # the furthest any thread has gone

    # -- thread tracking --------------------------------------------------------------------
    def install(self, patch: Callable[[Any, str, Any], None]) -> None:
        clock = self
        original_start = threading.Thread.start

        def start(thread: threading.Thread) -> None:
            clock._adopt(thread)
            original_start(thread)

        patch(threading.Thread, "start", start)

    def _adopt(self, thread: threading.Thread) -> None:
        """A thread starts at its creator's time and reports its final time when it ends.

        Servers and other threads that never end (named "untimed-...") keep no time."""
        if thread.name.startswith(UNTIMED_PREFIX):
            return
        parent = threading.current_thread()
        with self._lock:
            # The creator's own time, without folding in siblings that may already have ended:
            # branches started one after the other all begin at the same moment.
            begin = self._times.get(parent, 0.0)
            self._children.setdefault(parent, []).append(thread)
        run = thread.run

        def timed_run() -> None:
            with self._lock:
                self._times[thread] = begin
            try:
                run()
            finally:
                with self._lock:
                    final = self._fold_finished_children(thread)
                    self._times.pop(thread, None)
                    # Our mark on the stdlib's Thread (moto creates the threads).
                    thread._simulated_end = final  # type: ignore[attr-defined]
                    # Children still running outlive this thread: its creator inherits them.
                    orphans = self._children.pop(thread, [])
                    if orphans:
                        self._children.setdefault(parent, []).extend(orphans)

        # The stdlib's Thread.run of one thread moto created, timed.
        thread.run = timed_run  # type: ignore[method-assign]

    def _fold_finished_children(self, me: threading.Thread) -> float:
        """Caller holds the lock. A thread whose children have all ended (it waited for them: a
        Parallel, a Map, an execution) continues from the latest of their times."""
        current = self._times.get(me, 0.0)
        children = self._children.get(me)
        if children and all(hasattr(child, "_simulated_end") for child in children):
            # The mark timed_run put on each stdlib Thread.
            ends = [child._simulated_end for child in children]  # type: ignore[attr-defined]
            current = max(current, *ends)
            self._children[me] = []
            self._times[me] = current
        return current

    # -- the clock ----------------------------------------------------------------------------
    def now(self) -> float:
        with self._lock:
            return self._fold_finished_children(threading.current_thread())

    def advance(self, seconds: float) -> None:
        if seconds <= 0:
            return
        me = threading.current_thread()
        with self._lock:
            moment = self._fold_finished_children(me) + seconds
            self._times[me] = moment
            self._latest = max(self._latest, moment)

    def latest(self) -> float:
        """The furthest simulated moment any thread has reached."""
        with self._lock:
            return self._latest

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        # Let other threads run, as a real sleep would (no wall time is simulated by this).
        time.sleep(0)

    def set_thread_time(self, seconds: float) -> None:
        """Move the calling thread to `seconds` (never backwards)."""
        me = threading.current_thread()
        with self._lock:
            self._times[me] = max(self._fold_finished_children(me), seconds)
