"""A bounded wait's looks spend as little of the account's API rate as they can: every
environment at once polls the same ELBv2 Describe* rate (rule rate.elbv2-describe)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import boto3
import pytest

from fargate_env import aws as fargate_aws
from fargate_env import load_balancers, service
from fargate_env.errors import AwsRequestFailed


@pytest.fixture
def elbv2_calls(aws) -> Counter[str]:
    """The ELBv2 operations the library's client makes."""
    calls: Counter[str] = Counter()
    fargate_aws.client("elbv2").meta.events.register(
        "before-call",
        lambda model, **_: calls.update([model.name]),
    )
    return calls


def _load_balancers(count: int) -> list[str]:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.1.{i}.0/24", AvailabilityZone=zone)["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate(("us-east-1a", "us-east-1b"))
    ]
    elbv2 = boto3.client("elbv2", region_name="us-east-1")
    return [
        elbv2.create_load_balancer(Name=f"look-{i}", Subnets=subnets)["LoadBalancers"][0][
            "LoadBalancerArn"
        ]
        for i in range(count)
    ]


def test_one_look_at_the_load_balancers_is_one_describe_call(elbv2_calls):
    arns = _load_balancers(3)

    look = load_balancers.check_active(arns)

    assert look["ready"] is True
    assert sorted(look["states"]) == ["look-0", "look-1", "look-2"]
    assert elbv2_calls == {"DescribeLoadBalancers": 1}


def test_a_load_balancer_gone_is_still_named_when_looked_at_together(elbv2_calls):
    arns = _load_balancers(2)
    boto3.client("elbv2", region_name="us-east-1").delete_load_balancer(LoadBalancerArn=arns[1])

    with pytest.raises(AwsRequestFailed, match=f"load balancer {arns[1]} disappeared"):
        load_balancers.check_active(arns)


def test_targets_are_not_looked_at_before_the_rollout_completes(monkeypatch):
    in_progress: dict[str, Any] = {
        "status": "ACTIVE",
        "desiredCount": 1,
        "runningCount": 0,
        "deployments": [{"id": "d1", "status": "PRIMARY", "rolloutState": "IN_PROGRESS"}],
    }
    monkeypatch.setattr(service, "_describe", lambda cluster, name: in_progress)
    monkeypatch.setattr(service, "_stopped_task_reasons", lambda *args: [])
    looked: list[list[str]] = []
    monkeypatch.setattr(service, "healthy_targets", lambda arns: looked.append(arns) or {"tg": 0})

    look = service.check_stable("cluster", "svc", ["arn:tg/x/1"])

    assert look["ready"] is False
    assert looked == []
    assert "healthy targets: not looked at before the rollout completes" in look["summary"]

    in_progress.update(runningCount=1)
    in_progress["deployments"][0]["rolloutState"] = "COMPLETED"
    assert service.check_stable("cluster", "svc", ["arn:tg/x/1"])["ready"] is False
    assert looked == [["arn:tg/x/1"]]  # settled: now the targets' health decides
