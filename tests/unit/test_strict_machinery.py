"""The machinery of the strict rules: token buckets on simulated time, and an embedded AWS that
takes every patch off again when it stops."""

from __future__ import annotations

import pytest

from embedded_aws.patches import Patches
from embedded_aws.strict.rates import RateLimits, bucket_for


def test_a_bucket_gives_its_burst_then_its_rate_per_simulated_second():
    # rule rate.ecs-register-task-definition: burst 20, then 1/s (window: 20 s)
    limits = RateLimits()
    take = lambda now: limits.take("us-east-1", "ecs", "RegisterTaskDefinition", now)  # noqa: E731

    assert [take(0.0) for _ in range(20)] == [None] * 20
    assert take(0.0).name == "ecs-register-task-definition"
    assert take(19.9) is not None  # the burst is spent for the window after it
    assert [take(20.0) for _ in range(20)] == [None] * 20  # the next window: never above it
    assert take(20.0) is not None
    assert limits.throttled == {"ecs-register-task-definition": 3}


def test_a_call_is_judged_at_its_own_simulated_time_not_after_later_ones():
    # Threads keep their own simulated time: a thread that waited less calls "earlier" than
    # calls already counted. Its call competes with the calls around its own moment.
    limits = RateLimits()
    take = lambda now: limits.take("us-east-1", "elbv2", "DescribeListeners", now)  # noqa: E731

    assert [take(600.0) for _ in range(40)] == [None] * 40  # a thread ten minutes ahead
    assert [take(0.0) for _ in range(40)] == [None] * 40  # room at the earlier moment
    assert take(0.0) is not None  # but not beyond its burst
    assert take(598.0) is not None  # nor into the burst of the later one


def test_buckets_are_per_region_and_reset_with_a_new_scenario():
    limits = RateLimits()
    for _ in range(40):
        assert limits.take("us-east-1", "elbv2", "DescribeTargetHealth", 0.0) is None
    assert limits.take("us-east-1", "elbv2", "DescribeListeners", 0.0) is not None
    assert limits.take("eu-west-1", "elbv2", "DescribeListeners", 0.0) is None
    limits.reset()
    assert limits.take("us-east-1", "elbv2", "DescribeListeners", 0.0) is None
    assert not limits.throttled


@pytest.mark.parametrize(
    ("service", "action", "bucket"),
    [
        ("ecs", "UpdateService", "ecs-service-mutations"),
        ("ecs", "StopTask", "ecs-run-stop-task"),
        ("ecs", "ListTasks", None),  # not among the documented ECS buckets
        ("elbv2", "DescribeTags", "elbv2-describe"),
        ("elbv2", "CreateListener", None),
        ("ec2", "DescribeSubnets", "ec2-non-mutating"),
        ("ec2", "AuthorizeSecurityGroupIngress", "ec2-mutating"),
        ("logs", "CreateLogGroup", None),
    ],
)
def test_each_call_draws_from_its_services_bucket(service, action, bucket):
    found = bucket_for(service, action)
    assert (found.name if found else None) == bucket


def test_the_rules_come_off_moto_as_they_went_on(monkeypatch):
    # The embedded AWS installs them into its own recorded patches, before its plugs and data
    # plane, and undoes them last when it stops; this is that install and undo.
    from embedded_aws.strict import Strict

    originals: dict[tuple[object, str], object] = {}  # what each attribute was before any patch
    record = Patches.set

    def recording(self: Patches, owner: object, name: str, value: object) -> None:
        originals.setdefault((owner, name), getattr(owner, name))
        record(self, owner, name, value)

    monkeypatch.setattr(Patches, "set", recording)
    patches = Patches()
    Strict().install(patches)
    patches.undo()

    assert {"add_tags", "add_event", "_verify_group_will_respect_rule_count_limit"} <= {
        name for _, name in originals
    }
    assert [key for key, before in originals.items() if getattr(*key) != before] == []
