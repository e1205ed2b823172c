"""Where the environment runs: the VPC and subnets of the tasks and load balancers.

No network in the spec means the region's default VPC and its default subnets (one per AZ),
as in the runbook. Anything given is checked here, before the first resource is created, so a
wrong subnet id is an InvalidSpec naming the field rather than a half-built environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fargate_env.aws import client
from fargate_env.errors import InvalidSpec, error_code
from fargate_env.payloads import Network


def _describe_subnets(subnet_ids: list[str], field: str) -> list[dict[str, Any]]:
    try:
        return list(client("ec2").describe_subnets(SubnetIds=subnet_ids)["Subnets"])
    except Exception as exc:
        if error_code(exc) in ("InvalidSubnetID.NotFound", "InvalidSubnetID.Malformed"):
            raise InvalidSpec(f"network.{field}: {exc}") from exc
        raise


def _default_vpc_id() -> str:
    vpcs = client("ec2").describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    if not vpcs:
        raise InvalidSpec(
            "network: this region has no default VPC; set network.vpc_id and network.subnet_ids"
        )
    return str(vpcs[0]["VpcId"])


def _vpc_is_default(vpc_id: str) -> bool:
    try:
        vpcs = client("ec2").describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
    except Exception as exc:
        if error_code(exc) in ("InvalidVpcID.NotFound", "InvalidVpcID.Malformed"):
            raise InvalidSpec(f"network.vpc_id: {vpc_id} does not exist") from exc
        raise
    return bool(vpcs and vpcs[0].get("IsDefault"))


def _default_subnets(vpc_id: str) -> list[dict[str, Any]]:
    subnets = client("ec2").describe_subnets(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "default-for-az", "Values": ["true"]},
        ]
    )["Subnets"]
    return sorted(subnets, key=lambda subnet: subnet["AvailabilityZone"])


def _single_vpc(subnets: list[dict[str, Any]], field: str, vpc_id: str | None) -> str:
    vpcs = {subnet["VpcId"] for subnet in subnets}
    if len(vpcs) != 1:
        raise InvalidSpec(
            f"network.{field}: subnets are in several VPCs ({', '.join(sorted(vpcs))})"
        )
    found = vpcs.pop()
    if vpc_id and found != vpc_id:
        raise InvalidSpec(
            f"network.{field}: subnets are in {found}, not in network.vpc_id {vpc_id}"
        )
    return str(found)


def _in_listed_order(subnets: list[dict[str, Any]], wanted: list[str]) -> list[dict[str, Any]]:
    """DescribeSubnets answers in no particular order: put the subnets back in the spec's."""
    by_id = {subnet["SubnetId"]: subnet for subnet in subnets}
    return [by_id[subnet_id] for subnet_id in wanted if subnet_id in by_id]


def _one_per_zone(subnets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first subnet of each Availability Zone, in the given order: CreateLoadBalancer takes
    at most one subnet per zone (ELBv2 API reference, CreateLoadBalancer: Subnets)."""
    chosen: dict[str, dict[str, Any]] = {}
    for subnet in subnets:
        chosen.setdefault(subnet["AvailabilityZone"], subnet)
    return list(chosen.values())


def _refuse_shared_zones(subnets: list[dict[str, Any]], field: str) -> None:
    by_zone: dict[str, list[str]] = {}
    for subnet in subnets:
        by_zone.setdefault(subnet["AvailabilityZone"], []).append(subnet["SubnetId"])
    shared = {zone: ids for zone, ids in sorted(by_zone.items()) if len(ids) > 1}
    if shared:
        listed = "; ".join(f"{zone}: {', '.join(ids)}" for zone, ids in shared.items())
        raise InvalidSpec(
            f"network.{field}: a load balancer takes one subnet per Availability Zone, and "
            f"these share one ({listed})"
        )


def resolve(spec: Mapping[str, Any]) -> Network:
    """The network the environment will use: {vpc_id, subnet_ids, load_balancer_subnet_ids}."""
    wanted = spec["network"]
    vpc_id: str | None = wanted.get("vpc_id")
    if wanted.get("subnet_ids"):
        subnets = _describe_subnets(wanted["subnet_ids"], "subnet_ids")
        vpc_id = _single_vpc(subnets, "subnet_ids", vpc_id)
        subnets = _in_listed_order(subnets, wanted["subnet_ids"])
    else:
        if vpc_id is None:
            vpc_id = _default_vpc_id()
        elif not _vpc_is_default(vpc_id):
            raise InvalidSpec(
                f"network.subnet_ids: required when network.vpc_id ({vpc_id}) is not the "
                "default VPC (which subnets are public or private is yours to say)"
            )
        subnets = _default_subnets(vpc_id)
        if not subnets:
            raise InvalidSpec(f"network: the default VPC {vpc_id} has no default subnets")

    # The tasks may use several subnets of a zone; their load balancers take the first of each.
    lb_subnets = _one_per_zone(subnets)
    if wanted.get("load_balancer_subnet_ids"):
        lb_subnets = _describe_subnets(
            wanted["load_balancer_subnet_ids"], "load_balancer_subnet_ids"
        )
        _single_vpc(lb_subnets, "load_balancer_subnet_ids", vpc_id)
        _refuse_shared_zones(lb_subnets, "load_balancer_subnet_ids")
        lb_subnets = _in_listed_order(lb_subnets, wanted["load_balancer_subnet_ids"])

    zones = {subnet["AvailabilityZone"] for subnet in lb_subnets}
    needs_two_zones = any(lb["type"] == "application" for lb in spec["load_balancers"])
    if needs_two_zones and len(zones) < 2:
        field = (
            "load_balancer_subnet_ids" if wanted.get("load_balancer_subnet_ids") else "subnet_ids"
        )
        raise InvalidSpec(
            f"network.{field}: an Application Load Balancer needs subnets in at least two "
            f"Availability Zones (got {', '.join(sorted(zones)) or 'none'})"
        )
    return {
        "vpc_id": vpc_id,
        "subnet_ids": [subnet["SubnetId"] for subnet in subnets],
        "load_balancer_subnet_ids": [subnet["SubnetId"] for subnet in lb_subnets],
    }
