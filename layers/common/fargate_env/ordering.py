"""Request order: create and teardown requests for one name are resolved by the time each was
made, not by the order their executions reach the registry.

Every request carries its time, `requested_at` (ISO 8601 with a time zone): an event's own
(EventBridge's `time`, or `requested_at` in its detail when the producer gives a finer one),
the CLI's, or else the execution's start time. The registry keeps, per name, the time of the
latest teardown request and of the create that claimed the name, with conditional writes
(registry.py); a request that finds a later one of the other kind is superseded. A tie goes to
the teardown: of two requests made at the same instant, nothing left running is the safe end.

Times are compared as UTC strings of one fixed width (microseconds), which DynamoDB's string
comparison orders as time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

from fargate_env.errors import InvalidRequest

FIELD: Final = "requested_at"
#: How far ahead of this deployment's clock a request may say it was made. Producers' clocks
#: drift a little; a request from far in the future would outrank every request until then.
MAX_AHEAD: Final = timedelta(minutes=5)
#: The earliest time accepted: no request of this application was made before.
EARLIEST: Final = datetime(2020, 1, 1, tzinfo=UTC)


def canonical(moment: datetime) -> str:
    """`moment` as the registry stores and compares it: UTC, microseconds, a trailing Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse(value: object, field: str, now: float) -> str:
    """`value`, a request time, in canonical form; InvalidRequest naming `field` when it is not
    an ISO 8601 time with a time zone, or says the request was made in the future."""
    if not isinstance(value, str):
        raise InvalidRequest(f"{field}: must be an ISO 8601 time such as 2026-01-31T12:00:00Z")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidRequest(
            f"{field}: {value!r} is not an ISO 8601 time (such as 2026-01-31T12:00:00.250Z)"
        ) from exc
    if moment.tzinfo is None:
        raise InvalidRequest(f"{field}: {value!r} has no time zone (end it with Z for UTC)")
    if moment < EARLIEST:
        raise InvalidRequest(f"{field}: {value!r} is before {EARLIEST.year}")
    latest = datetime.fromtimestamp(now, tz=UTC) + MAX_AHEAD
    if moment > latest:
        raise InvalidRequest(
            f"{field}: {value!r} is more than {MAX_AHEAD.seconds // 60} minutes ahead of this "
            f"deployment's clock ({canonical(latest - MAX_AHEAD)})"
        )
    return canonical(moment)


def now_iso(now: float) -> str:
    """The time `now` (seconds since the epoch) in canonical form."""
    return canonical(datetime.fromtimestamp(now, tz=UTC))
