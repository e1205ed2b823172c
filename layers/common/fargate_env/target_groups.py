"""Target groups: IP targets (the ECS service registers each task's IP itself), the load
balancer's health check, deregistration delay and stickiness."""

from __future__ import annotations

import functools
from typing import Any

from fargate_env import elbv2_tags, naming
from fargate_env.aws import client
from fargate_env.errors import ResourceConflict, ResourceNotReady, error_code, or_none_on
from fargate_env.payloads import (
    Deleted,
    LoadBalancerSpec,
    Network,
    NormalisedSpec,
    TargetGroupRecord,
)


def _describe_by_name(name: str) -> dict[str, Any] | None:
    groups = or_none_on(
        ("TargetGroupNotFound",),
        lambda: client("elbv2").describe_target_groups(Names=[name])["TargetGroups"],
    )
    return groups[0] if groups else None


def _health_check(lb: LoadBalancerSpec) -> dict[str, Any]:
    check = lb["target_group"]["health_check"]
    settings: dict[str, Any] = {
        "HealthCheckEnabled": True,
        "HealthCheckProtocol": check["protocol"],
        "HealthCheckPort": check["port"],
        "HealthCheckIntervalSeconds": int(check["interval_seconds"]),
        "HealthCheckTimeoutSeconds": int(check["timeout_seconds"]),
        "HealthyThresholdCount": int(check["healthy_threshold"]),
        "UnhealthyThresholdCount": int(check["unhealthy_threshold"]),
    }
    if check["protocol"] in ("HTTP", "HTTPS"):
        settings["HealthCheckPath"] = check["path"]
        settings["Matcher"] = {"HttpCode": check["matcher"]}
    return settings


def set_health_checks(
    load_balancers: list[LoadBalancerSpec], created: list[dict[str, Any]]
) -> list[str]:
    """Give each target group the health check of its load balancer in the spec
    (ModifyTargetGroup changes it in place: ELBv2 API reference, ModifyTargetGroup), only where
    it differs, so that running it again changes nothing. `created`: the recorded load
    balancers (id, target_group_arn). Returns the ARNs of the groups changed."""
    arns = {lb["id"]: lb["target_group_arn"] for lb in created}
    wanted = {arns[lb["id"]]: _health_check(lb) for lb in load_balancers if lb["id"] in arns}
    if not wanted:
        return []
    described = client("elbv2").describe_target_groups(TargetGroupArns=list(wanted))
    changed = []
    for group in described["TargetGroups"]:
        arn = group["TargetGroupArn"]
        if any(group.get(key) != value for key, value in wanted[arn].items()):
            client("elbv2").modify_target_group(TargetGroupArn=arn, **wanted[arn])
            changed.append(arn)
    return changed


def _attributes(lb: LoadBalancerSpec) -> list[dict[str, str]]:
    target_group = lb["target_group"]
    attributes = [
        {
            "Key": "deregistration_delay.timeout_seconds",
            "Value": str(target_group["deregistration_delay_seconds"]),
        }
    ]
    stickiness = target_group.get("stickiness")
    attributes.append({"Key": "stickiness.enabled", "Value": "true" if stickiness else "false"})
    if stickiness:
        attributes.append({"Key": "stickiness.type", "Value": stickiness["type"]})
        if stickiness["type"] == "lb_cookie":
            attributes.append(
                {
                    "Key": "stickiness.lb_cookie.duration_seconds",
                    "Value": str(stickiness["duration_seconds"]),
                }
            )
    return attributes


def _create(spec: NormalisedSpec, lb: LoadBalancerSpec, network: Network, name: str) -> str | None:
    """Create the group; None when a concurrent attempt created it first."""
    try:
        created = client("elbv2").create_target_group(
            Name=name,
            Protocol=lb["target_group"]["protocol"],
            Port=int(spec["container"]["port"]),
            VpcId=network["vpc_id"],
            TargetType="ip",
            Tags=naming.as_key_value_list(naming.environment_tags(spec["name"], spec["tags"])),
            **_health_check(lb),
        )
    except Exception as exc:
        if error_code(exc) != "DuplicateTargetGroupName":
            raise
        return None
    return str(created["TargetGroups"][0]["TargetGroupArn"])


def ensure(spec: NormalisedSpec, lb: LoadBalancerSpec, network: Network) -> TargetGroupRecord:
    env = spec["name"]
    name = naming.target_group_name(env, lb["id"])
    port = int(spec["container"]["port"])
    protocol = lb["target_group"]["protocol"]
    existing = _describe_by_name(name)
    arn = _create(spec, lb, network, name) if existing is None else None
    if arn is None:
        existing = existing or _describe_by_name(name)
        if existing is None:
            raise ResourceNotReady(f"target group {name!r} was reported duplicate but is not found")
        tags = elbv2_tags.tags_of([existing["TargetGroupArn"]]).get(existing["TargetGroupArn"], {})
        naming.require_owned("target group", name, tags, env)
        actual = (existing.get("Protocol"), existing.get("Port"), existing.get("VpcId"))
        if actual != (protocol, port, network["vpc_id"]):
            raise ResourceConflict(
                f"target group {name!r} exists with protocol/port/VPC {actual}, the spec wants "
                f"{(protocol, port, network['vpc_id'])}; tear the environment down first"
            )
        arn = existing["TargetGroupArn"]
    client("elbv2").modify_target_group_attributes(TargetGroupArn=arn, Attributes=_attributes(lb))
    return {"id": lb["id"], "arn": arn, "name": name}


def find(env: str) -> list[str]:
    return elbv2_tags.find_owned(
        env, "describe_target_groups", "TargetGroups", "TargetGroupName", "TargetGroupArn"
    )


def _existing_owned(env: str, arns: list[str]) -> list[dict[str, Any]]:
    existing: list[dict[str, Any]] = []
    for arn in arns:
        describe = functools.partial(client("elbv2").describe_target_groups, TargetGroupArns=[arn])
        described = or_none_on(("TargetGroupNotFound",), describe)
        existing.extend(described["TargetGroups"] if described else [])
    return elbv2_tags.owned(existing, "TargetGroupArn", env)


def existing(env: str, arns: list[str]) -> list[str]:
    """The target groups among `arns` that still exist and are ours."""
    return [group["TargetGroupArn"] for group in _existing_owned(env, arns)]


def delete(env: str, arns: list[str]) -> Deleted:
    """Delete our target groups among `arns`. A group a listener still uses is not ready yet."""
    deleted = []
    for group in _existing_owned(env, arns):
        try:
            client("elbv2").delete_target_group(TargetGroupArn=group["TargetGroupArn"])
        except Exception as exc:
            code = error_code(exc)
            if code == "TargetGroupNotFound":
                continue
            if code == "ResourceInUse":
                raise ResourceNotReady(
                    f"target group {group['TargetGroupName']} is still used by a listener"
                ) from exc
            raise
        deleted.append(group["TargetGroupArn"])
    return {"deleted": deleted}
