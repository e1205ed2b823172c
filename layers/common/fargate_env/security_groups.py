"""Security groups: one per load balancer (its listener ports from the ingress CIDRs) and one
for the tasks (only the container port, only from the load balancers' groups)."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable
from typing import Any

from fargate_env import ingress, naming
from fargate_env.aws import client
from fargate_env.errors import ResourceNotReady, error_code, or_none_on
from fargate_env.payloads import (
    Deleted,
    LoadBalancerSpec,
    Network,
    NormalisedSpec,
    SecurityGroupsRecord,
)

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
    """The id of environment `env`'s security group `name` in `vpc_id`, created if missing
    (idempotent)."""
    return _ensure_group(
        name,
        description,
        vpc_id,
        tags,
        lambda found: naming.require_owned("security group", name, found, env),
    )


def _ensure_group(
    name: str,
    description: str,
    vpc_id: str,
    tags: dict[str, str],
    require_owner: Callable[[dict[str, str]], None],
) -> str:
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
    require_owner(naming.from_key_value_list(existing.get("Tags")))
    return str(existing["GroupId"])


_SOURCES = (("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6"), ("UserIdGroupPairs", "GroupId"))


def _rule_keys(permission: dict[str, Any]) -> set[tuple[Any, ...]]:
    """One key per rule EC2 counts: (protocol, ports, source) for each CIDR or group."""
    ports = (permission["IpProtocol"], permission.get("FromPort"), permission.get("ToPort"))
    return {
        (*ports, field, source[key])
        for field, key in _SOURCES
        for source in permission.get(field, [])
    }


def _missing(wanted: dict[str, Any], existing: set[tuple[Any, ...]]) -> dict[str, Any] | None:
    """`wanted` without the rules the group already has (None: it has them all)."""
    ports = (wanted["IpProtocol"], wanted.get("FromPort"), wanted.get("ToPort"))
    left = dict(wanted)
    for field, key in _SOURCES:
        if field in wanted:
            left[field] = [s for s in wanted[field] if (*ports, field, s[key]) not in existing]
            if not left[field]:
                del left[field]
    return left if any(field in left for field, _ in _SOURCES) else None


def _allow(group_id: str, permissions: list[dict[str, Any]]) -> None:
    """Add the rules the group lacks, all in one AuthorizeSecurityGroupIngress call (EC2's
    mutating calls are rate-limited per account, and one call fails as a whole when any of its
    rules exists: hence the rules already there are left out)."""
    ec2 = client("ec2")
    for attempt in (1, 2):
        group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
        existing = {key for item in group.get("IpPermissions", []) for key in _rule_keys(item)}
        batch = [left for wanted in permissions if (left := _missing(wanted, existing))]
        if not batch:
            return
        try:
            ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=batch)
            return
        except Exception as exc:
            # A concurrent attempt added some of them: read the group again, once.
            if error_code(exc) != "InvalidPermission.Duplicate" or attempt == 2:
                raise


def _cidr_permission(port: int, cidrs: list[str]) -> dict[str, Any]:
    """The listener port from every CIDR, IPv4 and IPv6 (one rule per CIDR)."""
    description = "fargate-env ingress"
    ipv4 = [cidr for cidr in cidrs if ipaddress.ip_network(cidr).version == 4]
    ipv6 = [cidr for cidr in cidrs if ipaddress.ip_network(cidr).version == 6]
    permission: dict[str, Any] = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
    if ipv4:
        permission["IpRanges"] = [{"CidrIp": c, "Description": description} for c in ipv4]
    if ipv6:
        permission["Ipv6Ranges"] = [{"CidrIpv6": c, "Description": description} for c in ipv6]
    return permission


def _group_permission(port: int, group_id: str, description: str) -> dict[str, Any]:
    return {
        "IpProtocol": "tcp",
        "FromPort": port,
        "ToPort": port,
        "UserIdGroupPairs": [{"GroupId": group_id, "Description": description}],
    }


def _listener_permissions(lb: LoadBalancerSpec, vpc_id: str) -> list[dict[str, Any]]:
    """Each listener port from the ingress CIDRs; and from the endpoint probe's group when only
    a caller inside the VPC can prove the listeners answer (see ingress.py)."""
    ports = [int(listener["port"]) for listener in lb["listeners"]]
    permissions = [_cidr_permission(port, lb["ingress_cidrs"]) for port in ports]
    probe = ingress.probe_security_group(vpc_id)
    if probe and not ingress.reachable_from_outside(lb["scheme"], lb["ingress_cidrs"]):
        permissions += [
            _group_permission(port, probe, "fargate-env endpoint check") for port in ports
        ]
    return permissions


def _task_ports(spec: NormalisedSpec) -> list[int]:
    """The container port, plus any health-check port the load balancers probe separately."""
    ports = {int(spec["container"]["port"])}
    for lb in spec["load_balancers"]:
        health_port = lb["target_group"]["health_check"]["port"]
        if health_port != "traffic-port":
            ports.add(int(health_port))
    return sorted(ports)


def create_for_environment(spec: NormalisedSpec, network: Network) -> SecurityGroupsRecord:
    """Dedicated mode: each load balancer's group and the tasks' group, which admits the
    container port from them. Shared mode: the tasks' group alone; it admits the gateway's group
    once the environment is routed on its gateway (allow_from_gateway), the gateway being known
    only then."""
    env = spec["name"]
    tags = naming.environment_tags(env, spec["tags"])
    vpc_id = network["vpc_id"]
    lb_groups: dict[str, str] = {}
    for lb in spec["load_balancers"] if spec.get("mode") != "shared" else []:
        group_id = ensure_group(
            env,
            naming.load_balancer_security_group_name(env, lb["id"]),
            f"fargate-env {env}: load balancer {lb['id']} listeners",
            vpc_id,
            tags,
        )
        _allow(group_id, _listener_permissions(lb, vpc_id))
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
            _group_permission(port, lb_group, f"from load balancer {lb_id}")
            for lb_id, lb_group in lb_groups.items()
            for port in _task_ports(spec)
        ],
    )
    return {"load_balancers": lb_groups, "tasks": tasks_group}


def allow_from_gateway(spec: NormalisedSpec, vpc_id: str, gateway_group_id: str) -> str:
    """Shared mode: the tasks' group admits the container port only from the gateway's group."""
    env = spec["name"]
    tasks_group = ensure_group(
        env,
        naming.tasks_security_group_name(env),
        f"fargate-env {env}: tasks, reachable only from the load balancers",
        vpc_id,
        naming.environment_tags(env, spec["tags"]),
    )
    _allow(
        tasks_group,
        [
            _group_permission(port, gateway_group_id, "from its gateway")
            for port in _task_ports(spec)
        ],
    )
    return tasks_group


def ensure_gateway_group(
    gateway_id: str, name: str, vpc_id: str, open_ports: list[tuple[int, int]]
) -> str:
    """A gateway's security group, admitting its listener ports from everywhere: it is shared by
    every environment on the gateway, whose own rules filter by source address."""
    group = _ensure_group(
        name,
        f"fargate-env gateway {gateway_id}: listeners of the environments' routes",
        vpc_id,
        naming.gateway_tags(gateway_id),
        lambda found: naming.require_gateway_owned("security group", name, found, gateway_id),
    )
    world = [
        {
            "IpProtocol": "tcp",
            "FromPort": first,
            "ToPort": last,
            "IpRanges": [{"CidrIp": ingress.WORLD_IPV4, "Description": "fargate-env gateway"}],
        }
        for first, last in open_ports
    ]
    _allow(group, world)
    return group


def delete_gateway_group(gateway_id: str, name: str) -> list[str]:
    """A gateway's security group (its name, tagged as the gateway's: in whatever VPC the
    gateway was made); ResourceNotReady while network interfaces (its load balancer's, released
    minutes after it is deleted) or another group's rule (an environment's tasks, being torn
    down) still use it."""
    tags = naming.gateway_tags(gateway_id)
    groups = client("ec2").describe_security_groups(
        Filters=[
            {"Name": "group-name", "Values": [name]},
            *({"Name": f"tag:{key}", "Values": [value]} for key, value in tags.items()),
        ]
    )["SecurityGroups"]
    if not groups:
        return []
    found = groups[0]
    try:
        client("ec2").delete_security_group(GroupId=found["GroupId"])
    except Exception as exc:
        code = error_code(exc)
        if code in _GONE:
            return []
        if code == "DependencyViolation":
            raise ResourceNotReady(
                f"the security group of gateway {gateway_id} ({found['GroupId']}) is still used "
                "by network interfaces of its deleted load balancer or by an environment's rule"
            ) from exc
        raise
    return [str(found["GroupId"])]


def find(env: str) -> list[dict[str, Any]]:
    """Every security group tagged as this environment's, of this deployment."""
    paginator = client("ec2").get_paginator("describe_security_groups")
    groups: list[dict[str, Any]] = []
    for page in paginator.paginate(
        Filters=[
            {"Name": f"tag:{naming.ENVIRONMENT_TAG}", "Values": [env]},
            {"Name": f"tag:{naming.MANAGED_BY_TAG}", "Values": [naming.deployment()]},
        ]
    ):
        groups.extend(page["SecurityGroups"])
    return groups


def existing(env: str, group_ids: list[str]) -> list[str]:
    """The groups among `group_ids` that still exist and are ours."""
    return [group["GroupId"] for group in _describe_owned(env, group_ids)]


def _describe(group_ids: list[str]) -> list[dict[str, Any]]:
    """The groups among `group_ids` that exist (whoever's they are)."""
    found: list[dict[str, Any]] = []
    for group_id in group_ids:
        describe = functools.partial(client("ec2").describe_security_groups, GroupIds=[group_id])
        described = or_none_on(_GONE, describe)
        found += described["SecurityGroups"] if described else []
    return found


def _describe_owned(env: str, group_ids: list[str]) -> list[dict[str, Any]]:
    """The recorded groups that still exist and are ours (unknown or foreign ids are skipped)."""
    return [
        group
        for group in _describe(group_ids)
        if naming.owned_by(naming.from_key_value_list(group.get("Tags")), env)
    ]


def delete_for_environment(env: str, recorded_ids: list[str]) -> Deleted:
    """Revoke the rules between our groups, then delete them.

    A group still used by an ENI (a task or load balancer being released) or by another group's
    rule gives DependencyViolation: the deletable ones are deleted now, and ResourceNotReady asks
    the state machine to retry the rest with back-off.
    """
    groups = {group["GroupId"]: group for group in find(env)}
    others = _describe([i for i in recorded_ids if i not in groups])
    for group in others:
        if naming.owned_by(naming.from_key_value_list(group.get("Tags")), env):
            groups[group["GroupId"]] = group
    foreign = {group["GroupId"] for group in others} - set(groups)

    ec2 = client("ec2")
    for group in groups.values():
        cross_rules = [
            permission
            for permission in group.get("IpPermissions", [])
            if any(pair.get("GroupId") in groups for pair in permission.get("UserIdGroupPairs", []))
        ]
        if cross_rules:
            revoke = functools.partial(
                ec2.revoke_security_group_ingress,
                GroupId=group["GroupId"],
                IpPermissions=cross_rules,
            )
            or_none_on((*_GONE, "InvalidPermission.NotFound"), revoke)  # gone already: done

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
        # Load balancers release their network interfaces minutes after they are deleted,
        # sometimes more than the teardown's retries wait: it then fails, and a new teardown
        # resumes from what is left.
        raise ResourceNotReady(
            f"security groups still in use by network interfaces or rules: {', '.join(in_use)} "
            f"(deleted so far: {', '.join(deleted) or 'none'}). Retried with back-off; should "
            f"the retries run out, start the teardown of {env} again: it resumes where this one "
            "stopped."
        )
    # A retry sees only what earlier attempts left: the inventory's groups not found now were
    # deleted by those attempts (the inventory lists only groups that existed); a recorded id
    # that exists but is not ours was never deleted.
    gone = (i for i in recorded_ids if i not in groups and i not in foreign)
    return {"deleted": sorted({*deleted, *gone})}
