"""Security groups: one per load balancer (its listener ports from the ingress CIDRs) and one
for the tasks (only the container port, only from the load balancers' groups)."""

from __future__ import annotations

import ipaddress
from typing import Any

from fargate_env import naming
from fargate_env.aws import client
from fargate_env.errors import ResourceNotReady, error_code

_GONE = ("InvalidGroup.NotFound", "InvalidGroupId.NotFound", "InvalidGroupId.Malformed")


def _find_by_name(name: str, vpc_id: str) -> dict[str, Any] | None:
    groups = client("ec2").describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "group-name", "Values": [name]},
        ]
    )["SecurityGroups"]
    return groups[0] if groups else None


def ensure_group(env: str, name: str, description: str, vpc_id: str, tags: dict[str, str]) -> str:
    """The id of security group `name` in `vpc_id`, created if missing (idempotent)."""
    existing = _find_by_name(name, vpc_id)
    if existing is None:
        try:
            created = client("ec2").create_security_group(
                GroupName=name,
                Description=description,
                VpcId=vpc_id,
                TagSpecifications=[
                    {"ResourceType": "security-group", "Tags": naming.as_key_value_list(tags)}
                ],
            )
            return str(created["GroupId"])
        except Exception as exc:
            if error_code(exc) != "InvalidGroup.Duplicate":
                raise
            existing = _find_by_name(name, vpc_id)  # created concurrently: use that one
            if existing is None:
                raise
    naming.require_owned(
        "security group", name, naming.from_key_value_list(existing.get("Tags")), env
    )
    return str(existing["GroupId"])


def _allow(group_id: str, permissions: list[dict[str, Any]]) -> None:
    """Add ingress rules one by one; a rule that already exists is fine (idempotent)."""
    for permission in permissions:
        try:
            client("ec2").authorize_security_group_ingress(
                GroupId=group_id, IpPermissions=[permission]
            )
        except Exception as exc:
            if error_code(exc) != "InvalidPermission.Duplicate":
                raise


def _cidr_permission(port: int, cidr: str) -> dict[str, Any]:
    permission: dict[str, Any] = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
    if ipaddress.ip_network(cidr).version == 6:
        permission["Ipv6Ranges"] = [{"CidrIpv6": cidr, "Description": "fargate-env ingress"}]
    else:
        permission["IpRanges"] = [{"CidrIp": cidr, "Description": "fargate-env ingress"}]
    return permission


def _task_ports(spec: dict[str, Any]) -> list[int]:
    """The container port, plus any health-check port the load balancers probe separately."""
    ports = {int(spec["container"]["port"])}
    for lb in spec["load_balancers"]:
        health_port = lb["target_group"]["health_check"]["port"]
        if health_port != "traffic-port":
            ports.add(int(health_port))
    return sorted(ports)


def create_for_environment(spec: dict[str, Any], network: dict[str, Any]) -> dict[str, Any]:
    env = spec["name"]
    tags = naming.environment_tags(env, spec["tags"])
    vpc_id = network["vpc_id"]
    lb_groups: dict[str, str] = {}
    for lb in spec["load_balancers"]:
        group_id = ensure_group(
            env,
            naming.load_balancer_security_group_name(env, lb["id"]),
            f"fargate-env {env}: load balancer {lb['id']} listeners",
            vpc_id,
            tags,
        )
        _allow(
            group_id,
            [
                _cidr_permission(listener["port"], cidr)
                for listener in lb["listeners"]
                for cidr in lb["ingress_cidrs"]
            ],
        )
        lb_groups[lb["id"]] = group_id

    tasks_group = ensure_group(
        env,
        naming.tasks_security_group_name(env),
        f"fargate-env {env}: tasks, reachable only from the load balancers",
        vpc_id,
        tags,
    )
    _allow(
        tasks_group,
        [
            {
                "IpProtocol": "tcp",
                "FromPort": port,
                "ToPort": port,
                "UserIdGroupPairs": [
                    {"GroupId": lb_group, "Description": f"from load balancer {lb_id}"}
                ],
            }
            for lb_id, lb_group in lb_groups.items()
            for port in _task_ports(spec)
        ],
    )
    return {"load_balancers": lb_groups, "tasks": tasks_group}


def find(env: str) -> list[dict[str, Any]]:
    """Every security group tagged as this environment's."""
    paginator = client("ec2").get_paginator("describe_security_groups")
    groups: list[dict[str, Any]] = []
    for page in paginator.paginate(
        Filters=[{"Name": f"tag:{naming.ENVIRONMENT_TAG}", "Values": [env]}]
    ):
        groups.extend(page["SecurityGroups"])
    return groups


def existing(env: str, group_ids: list[str]) -> list[str]:
    """The groups among `group_ids` that still exist and are ours."""
    return [group["GroupId"] for group in _describe_owned(env, group_ids)]


def _describe_owned(env: str, group_ids: list[str]) -> list[dict[str, Any]]:
    """The recorded groups that still exist and are ours (unknown or foreign ids are skipped)."""
    owned = []
    for group_id in group_ids:
        try:
            groups = client("ec2").describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
        except Exception as exc:
            if error_code(exc) in _GONE:
                continue
            raise
        owned.extend(
            group
            for group in groups
            if naming.owned_by(naming.from_key_value_list(group.get("Tags")), env)
        )
    return owned


def delete_for_environment(env: str, recorded_ids: list[str]) -> dict[str, Any]:
    """Revoke the rules between our groups, then delete them.

    A group still used by an ENI (a task or load balancer being released) or by another group's
    rule gives DependencyViolation: the deletable ones are deleted now, and ResourceNotReady asks
    the state machine to retry the rest with back-off.
    """
    groups = {group["GroupId"]: group for group in find(env)}
    for group in _describe_owned(env, [i for i in recorded_ids if i not in groups]):
        groups[group["GroupId"]] = group

    ec2 = client("ec2")
    for group in groups.values():
        cross_rules = [
            permission
            for permission in group.get("IpPermissions", [])
            if any(pair.get("GroupId") in groups for pair in permission.get("UserIdGroupPairs", []))
        ]
        if cross_rules:
            try:
                ec2.revoke_security_group_ingress(
                    GroupId=group["GroupId"], IpPermissions=cross_rules
                )
            except Exception as exc:
                if error_code(exc) not in (*_GONE, "InvalidPermission.NotFound"):
                    raise

    deleted, in_use = [], []
    for group_id in sorted(groups):
        try:
            ec2.delete_security_group(GroupId=group_id)
            deleted.append(group_id)
        except Exception as exc:
            code = error_code(exc)
            if code in _GONE:
                continue
            if code == "DependencyViolation":
                in_use.append(group_id)
                continue
            raise
    if in_use:
        raise ResourceNotReady(
            f"security groups still in use by network interfaces or rules: {', '.join(in_use)} "
            f"(deleted so far: {', '.join(deleted) or 'none'})"
        )
    # A retry sees only what earlier attempts left: the inventory's groups not found now were
    # deleted by those attempts (the inventory lists only groups that existed).
    return {"deleted": sorted({*deleted, *(i for i in recorded_ids if i not in groups)})}
