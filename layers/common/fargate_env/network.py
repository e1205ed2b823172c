"""Where the environment runs: the VPC and subnets of the tasks and load balancers.

No network in the spec means the region's default VPC and its default subnets (one per AZ),
as in the runbook. Anything given is checked here, before the first resource is created, so a
wrong subnet id is an InvalidSpec naming the field rather than a half-built environment.
"""

from __future__ import annotations

from typing import Any

from fargate_env.aws import client
from fargate_env.errors import InvalidSpec, error_code


def _describe_subnets(subnet_ids: list[str], field: str) -> list[dict[str, Any]]:
    try:
        return list(client("ec2").describe_subnets(SubnetIds=subnet_ids)["Subnets"])
    except Exception as exc:
        if error_code(exc) in ("InvalidSubnetID.NotFound", "InvalidSubnetID.Malformed"):
            raise InvalidSpec(f"network.{field}: {exc}") from None
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
            raise InvalidSpec(f"network.vpc_id: {vpc_id} does not exist") from None
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


def resolve(spec: dict[str, Any]) -> dict[str, Any]:
    """The network the environment will use: {vpc_id, subnet_ids, load_balancer_subnet_ids}."""
    wanted = spec["network"]
    vpc_id: str | None = wanted.get("vpc_id")
    if wanted.get("subnet_ids"):
        subnets = _describe_subnets(wanted["subnet_ids"], "subnet_ids")
        vpc_id = _single_vpc(subnets, "subnet_ids", vpc_id)
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

    lb_subnets = subnets
    if wanted.get("load_balancer_subnet_ids"):
        lb_subnets = _describe_subnets(
            wanted["load_balancer_subnet_ids"], "load_balancer_subnet_ids"
        )
        _single_vpc(lb_subnets, "load_balancer_subnet_ids", vpc_id)

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
