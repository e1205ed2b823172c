"""Where the environment runs: the load balancers take one subnet per Availability Zone (as
CreateLoadBalancer requires), the tasks every subnet they were given."""

from __future__ import annotations

import boto3
import pytest

from fargate_env import network
from fargate_env import spec as spec_model
from fargate_env.errors import InvalidSpec


@pytest.fixture
def subnets(aws) -> dict[str, str]:
    """A VPC with two subnets in us-east-1a and one in us-east-1b."""
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    layout = {"a1": ("10.0.1.0/24", "a"), "a2": ("10.0.2.0/24", "a"), "b1": ("10.0.3.0/24", "b")}
    return {
        name: ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=f"us-east-1{zone}")[
            "Subnet"
        ]["SubnetId"]
        for name, (cidr, zone) in layout.items()
    }


def spec_with(network_fields: dict) -> dict:
    return spec_model.normalise(spec_model.parse({"name": "net", "network": network_fields}))


def test_load_balancers_take_the_first_task_subnet_of_each_zone(subnets):
    # Given task subnets with two in one zone
    task_subnets = [subnets["a2"], subnets["a1"], subnets["b1"]]

    # When the network is resolved
    resolved = network.resolve(spec_with({"subnet_ids": task_subnets}))

    # Then the tasks keep all three, the load balancers one per zone, in the listed order
    assert resolved["subnet_ids"] == task_subnets
    assert resolved["load_balancer_subnet_ids"] == [subnets["a2"], subnets["b1"]]


def test_load_balancer_subnets_sharing_a_zone_are_refused_naming_the_field(subnets):
    wanted = {
        "subnet_ids": [subnets["a1"], subnets["b1"]],
        "load_balancer_subnet_ids": [subnets["a1"], subnets["a2"], subnets["b1"]],
    }

    with pytest.raises(InvalidSpec) as raised:
        network.resolve(spec_with(wanted))

    message = str(raised.value)
    assert message.startswith("network.load_balancer_subnet_ids: ")
    assert f"us-east-1a: {subnets['a1']}, {subnets['a2']}" in message


def test_the_default_subnets_are_one_per_zone_already(aws):
    resolved = network.resolve(spec_with({}))

    ec2 = boto3.client("ec2", region_name="us-east-1")
    described = ec2.describe_subnets(SubnetIds=resolved["load_balancer_subnet_ids"])["Subnets"]
    zones = [subnet["AvailabilityZone"] for subnet in described]
    assert len(zones) == len(set(zones)) >= 2
    assert resolved["load_balancer_subnet_ids"] == resolved["subnet_ids"]


def test_an_unknown_subnet_or_vpc_is_refused_naming_its_field_and_keeping_the_aws_error(aws):
    from botocore.exceptions import ClientError

    with pytest.raises(InvalidSpec, match=r"network\.subnet_ids") as unknown_subnet:
        network.resolve(spec_with({"subnet_ids": ["subnet-0123456789abcdef0"]}))
    with pytest.raises(InvalidSpec, match=r"network\.vpc_id") as unknown_vpc:
        network.resolve(spec_with({"vpc_id": "vpc-0123456789abcdef0"}))
    # The cause stays on the error (logged with its trace by the step), not only in its text.
    assert isinstance(unknown_subnet.value.__cause__, ClientError)
    assert isinstance(unknown_vpc.value.__cause__, ClientError)
