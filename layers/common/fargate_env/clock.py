"""Time as the library sees it. One seam so waits inside a step are bounded and measurable;
the offline emulator drives the same functions on its simulated clock."""

from __future__ import annotations

import time


def now() -> float:
    """Seconds since the epoch."""
    return time.time()


def monotonic() -> float:
    return time.monotonic()


def sleep(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)
