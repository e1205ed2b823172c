"""API rates on the simulated clock (rules.py: BUCKETS, rate.*).

One limit per (region, bucket name) - AWS throttles per account and region, and the embedded AWS
is one account. AWS's token bucket gives `burst` calls at once and `refill` per second after.
Here threads carry their own simulated time (clock.py), so calls arrive out of time order: a
thread that has waited less is "earlier" than calls already counted. A bucket replayed in
arrival order would give such a thread nothing until its own time passes the latest call
(at 60 environments at once, some executions starved for ten simulated minutes while the rate
allowed thousands of calls). So each call is judged at its own time against the calls admitted
around it: at most `burst` in the window of `burst / refill` seconds before it, and at most
`burst` in the window after it. Over any length of time that admits no more than the bucket's
rate, and never more than the bucket's burst at once: never more generous than AWS.
"""

from __future__ import annotations

import bisect
import fnmatch
import threading
from collections import Counter
from typing import Final

from embedded_aws.strict.rules import BUCKETS, Bucket

#: Admitted calls older than this behind the latest are forgotten (no thread lags that far).
HORIZON_SECONDS: Final = 6 * 3600.0


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
        #: (region, bucket name) -> the simulated times of the calls admitted, in order.
        self._admitted: dict[tuple[str, str], list[float]] = {}
        self.throttled: Counter[str] = Counter()

    def take(self, region: str, service: str, action: str, now: float) -> Bucket | None:
        """Count the call at simulated time `now`; the bucket that throttles it, or None when
        it may go."""
        bucket = bucket_for(service, action)
        if bucket is None:
            return None
        window = bucket.burst / bucket.refill
        with self._lock:
            times = self._admitted.setdefault((region, bucket.name), [])
            before = bisect.bisect_right(times, now) - bisect.bisect_right(times, now - window)
            after = bisect.bisect_left(times, now + window) - bisect.bisect_left(times, now)
            if before < bucket.burst and after < bucket.burst:
                bisect.insort(times, now)
                forgotten = bisect.bisect_left(times, times[-1] - HORIZON_SECONDS)
                del times[:forgotten]
                return None
            self.throttled[bucket.name] += 1
            return bucket

    def reset(self) -> None:
        with self._lock:
            self._admitted.clear()
            self.throttled.clear()
