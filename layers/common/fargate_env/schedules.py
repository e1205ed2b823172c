"""Expiry: a one-time EventBridge Scheduler schedule that starts the teardown machine when an
environment's time to live is over. Removed when the environment is torn down earlier."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from fargate_env import clock, naming, settings
from fargate_env.aws import client
from fargate_env.errors import delete_found, error_code, or_none_on
from fargate_env.payloads import Deleted, NormalisedSpec

TEARDOWN_STATE_MACHINE_ENV: Final = "TEARDOWN_STATE_MACHINE_ARN"
SCHEDULER_ROLE_ENV: Final = "SCHEDULER_ROLE_ARN"
SCHEDULE_GROUP_ENV: Final = "SCHEDULE_GROUP_NAME"


def _group() -> str:
    return settings.get(SCHEDULE_GROUP_ENV, "default")


def expiry_time(ttl_minutes: int, now: float | None = None) -> datetime:
    moment = datetime.fromtimestamp(clock.now() if now is None else now, tz=UTC)
    return (moment + timedelta(minutes=ttl_minutes)).replace(microsecond=0)


def _request(env: str, at: datetime, target: dict[str, Any]) -> dict[str, Any]:
    """The whole schedule (UpdateSchedule replaces every field, so both calls send all of it)."""
    return {
        "Name": naming.schedule_name(env),
        "GroupName": _group(),
        "ScheduleExpression": f"at({at.strftime('%Y-%m-%dT%H:%M:%S')})",
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "ActionAfterCompletion": "DELETE",
        "Description": f"fargate-env: tear down {env} when its time to live ends",
        "Target": target,
    }


def ensure(spec: NormalisedSpec) -> dict[str, Any]:
    """Schedule the teardown for the spec's time to live (none: nothing to do)."""
    ttl = spec.get("time_to_live_minutes")
    if not ttl:
        return {"schedule": None, "expires_at": None}
    env = spec["name"]
    name = naming.schedule_name(env)
    at = expiry_time(int(ttl))
    request = _request(
        env,
        at,
        {
            "Arn": settings.require(TEARDOWN_STATE_MACHINE_ENV),
            "RoleArn": settings.require(SCHEDULER_ROLE_ENV),
            "Input": json.dumps({"name": env, "reason": "expired"}),
            "RetryPolicy": {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 3600},
        },
    )
    scheduler = client("scheduler")
    try:
        scheduler.create_schedule(**request)
    except Exception as exc:
        if error_code(exc) != "ConflictException":
            raise
        if _target(name) != _teardown_machine():
            from fargate_env.errors import ResourceConflict

            raise ResourceConflict(
                f"schedule {name!r} already exists and starts {_target(name)}, not this "
                "deployment's teardown: another stack manages an environment of this name"
            ) from exc
        scheduler.update_schedule(**request)  # a re-run moves the expiry: last ready wins
    return {"schedule": name, "expires_at": at.isoformat()}


def move(env: str, at: datetime) -> dict[str, Any] | None:
    """Move `env`'s expiry schedule to `at`, its target unchanged; None when it has none of this
    deployment's (another stack's schedule of the same name is not ours to move)."""
    scheduler = client("scheduler")
    current = or_none_on(
        ("ResourceNotFoundException",),
        lambda: scheduler.get_schedule(Name=naming.schedule_name(env), GroupName=_group()),
    )
    if current is None:
        return None
    if current.get("Target", {}).get("Arn") != _teardown_machine():
        return None
    scheduler.update_schedule(**_request(env, at, current["Target"]))
    return {"schedule": current["Name"], "expires_at": at.isoformat()}


def _teardown_machine() -> str:
    return settings.require(TEARDOWN_STATE_MACHINE_ENV)


def _target(name: str) -> str | None:
    """What schedule `name` starts (None: no such schedule). Schedules carry no tags: the
    target tells this deployment's schedules from another stack's of the same name."""
    found = or_none_on(
        ("ResourceNotFoundException",),
        lambda: client("scheduler").get_schedule(Name=name, GroupName=_group()),
    )
    return None if found is None else str(found.get("Target", {}).get("Arn", ""))


def find(env: str) -> str | None:
    """The environment's expiry schedule, if this deployment's."""
    name = naming.schedule_name(env)
    return name if _target(name) == _teardown_machine() else None


def delete(env: str) -> Deleted:
    return delete_found(
        find(env),
        "ResourceNotFoundException",
        lambda name: client("scheduler").delete_schedule(Name=name, GroupName=_group()),
    )
