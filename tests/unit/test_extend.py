"""Extending an environment's time to live: the expiry schedule and the registry move together,
and nothing changes when the environment cannot be extended."""

from __future__ import annotations

from datetime import datetime, timedelta

import boto3
import pytest

from fargate_env import lifecycle, naming, registry
from fargate_env import spec as spec_model
from fargate_env.errors import EnvironmentBusy, EnvironmentNotFound, InvalidSpec
from tests.support import REGION


@pytest.fixture
def ready(deployment):
    """A READY environment "keep" with a 60-minute time to live, and one "forever" without."""
    for name, ttl in (("keep", 60), ("forever", None)):
        spec = spec_model.normalise(spec_model.parse({"name": name, "time_to_live_minutes": ttl}))
        lifecycle.claim(spec, f"exec-{name}", "2026-01-01T00:00:00.000000Z")
        lifecycle.ready(spec, f"exec-{name}", {"resources": {}, "url": "http://x/"})
    return registry.get("keep")


def schedule_time(env: str) -> datetime:
    schedule = boto3.client("scheduler", region_name=REGION).get_schedule(
        Name=naming.schedule_name(env)
    )
    expression = schedule["ScheduleExpression"]  # at(2026-01-01T01:00:00)
    return datetime.fromisoformat(expression[3:-1] + "+00:00")


def test_extend_moves_the_schedule_and_the_registry_from_the_current_expiry(ready):
    before = datetime.fromisoformat(ready["expires_at"])
    assert schedule_time("keep") == before

    result = lifecycle.extend("keep", 2 * 3600)

    after = before + timedelta(hours=2)
    assert result == {
        "name": "keep",
        "expires_at": after.isoformat(),
        "previous_expires_at": ready["expires_at"],
    }
    assert registry.get("keep")["expires_at"] == after.isoformat()
    assert schedule_time("keep") == after
    target = boto3.client("scheduler", region_name=REGION).get_schedule(
        Name=naming.schedule_name("keep")
    )["Target"]
    assert '"reason": "expired"' in target["Input"]  # the target is kept as it was


@pytest.mark.parametrize(
    ("name", "seconds", "error", "message"),
    [
        ("missing", 60, EnvironmentNotFound, "no environment named 'missing'"),
        ("forever", 60, InvalidSpec, "has no time to live"),
        ("keep", 0, InvalidSpec, "duration: must be positive"),
        ("keep", 366 * 24 * 3600, InvalidSpec, "more than a year ahead"),
    ],
)
def test_what_cannot_be_extended_is_refused_and_nothing_changes(
    ready, name, seconds, error, message
):
    with pytest.raises(error, match=message):
        lifecycle.extend(name, seconds)

    assert registry.get("keep")["expires_at"] == ready["expires_at"]
    assert schedule_time("keep") == datetime.fromisoformat(ready["expires_at"])


def test_an_environment_that_is_not_ready_is_busy(ready):
    registry.claim_for_teardown("keep", "teardown-1", "2026-01-01T00:00:01.000000Z")

    with pytest.raises(EnvironmentBusy, match="is DELETING"):
        lifecycle.extend("keep", 60)
    assert schedule_time("keep") == datetime.fromisoformat(ready["expires_at"])
