"""The machinery of the strict rules: token buckets on simulated time, and an embedded AWS that
takes every patch off again when it stops."""

from __future__ import annotations

import pytest

from embedded_aws.patches import Patches
from embedded_aws.strict.rates import RateLimits, bucket_for


def test_a_bucket_gives_its_burst_then_its_refill_per_simulated_second():
    # rule rate.ecs-register-task-definition: burst 20, then 1/s
    limits = RateLimits()
    take = lambda now: limits.take("us-east-1", "ecs", "RegisterTaskDefinition", now)  # noqa: E731

    assert [take(0.0) for _ in range(20)] == [None] * 20
    assert take(0.0).name == "ecs-register-task-definition"
    assert take(1.0) is None  # one token back after a second
    assert take(1.0) is not None
    assert take(0.5) is not None  # a call from an "earlier" thread refills nothing
    assert [take(100.0) for _ in range(20)] == [None] * 20  # full again, never above the burst
    assert take(100.0) is not None
    assert limits.throttled == {"ecs-register-task-definition": 4}


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
