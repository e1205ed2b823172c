"""API rates: token buckets on the simulated clock (rules.py: BUCKETS, rate.*).

One bucket per (region, bucket name) - AWS throttles per account and region, and the embedded AWS
is one account. A call takes a token; tokens come back at the bucket's refill rate per simulated
second, up to its burst. Threads carry their own simulated time (clock.py), so a call may arrive
"earlier" than one already counted: the bucket then refills nothing, never goes back.
"""

from __future__ import annotations

import fnmatch
import threading
from collections import Counter
from dataclasses import dataclass

from embedded_aws.strict.rules import BUCKETS, Bucket


@dataclass
class _State:
    tokens: float
    updated: float


def bucket_for(service: str, action: str) -> Bucket | None:
    """The bucket a call draws from (None: not rate-limited here)."""
    candidates = [bucket for bucket in BUCKETS if bucket.service == service]
    for bucket in candidates:
        if any(fnmatch.fnmatchcase(action, pattern) for pattern in bucket.actions):
            return bucket
    return next((bucket for bucket in candidates if not bucket.actions), None)


class RateLimits:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _State] = {}
        self.throttled: Counter[str] = Counter()

    def take(self, region: str, service: str, action: str, now: float) -> Bucket | None:
        """Take a token for the call; the bucket that throttles it, or None when it may go."""
        bucket = bucket_for(service, action)
        if bucket is None:
            return None
        with self._lock:
            state = self._buckets.setdefault(
                (region, bucket.name), _State(tokens=float(bucket.burst), updated=now)
            )
            if now > state.updated:
                state.tokens = min(
                    float(bucket.burst), state.tokens + (now - state.updated) * bucket.refill
                )
                state.updated = now
            if state.tokens >= 1:
                state.tokens -= 1
                return None
            self.throttled[bucket.name] += 1
            return bucket

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
            self.throttled.clear()
