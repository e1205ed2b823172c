"""The ECS service: Fargate tasks in the environment's subnets, registered by ECS in the target
groups, with the deployment circuit breaker; its stability check and its deletion."""

from __future__ import annotations

import hashlib
import math
from typing import Any

from fargate_env import naming, one_off_task
from fargate_env.aws import client
from fargate_env.errors import (
    AwsRequestFailed,
    ResourceNotReady,
    ServiceUnstable,
    error_code,
    or_none_on,
)
from fargate_env.payloads import (
    ServiceDeleted,
    ServiceDeletion,
    ServicePlacement,
    ServiceRecord,
    ServiceStability,
)

MAX_REASONS = 5


def failed_task_threshold(desired_count: int) -> int:
    """How many stopped tasks make a deployment hopeless: the ECS circuit breaker's own rule
    (half the desired count, at least 3, at most 200)."""
    return min(max(math.ceil(desired_count / 2), 3), 200)


def _describe(cluster: str, name: str) -> dict[str, Any] | None:
    described = or_none_on(
        ("ClusterNotFoundException",),
        lambda: client("ecs").describe_services(cluster=cluster, services=[name], include=["TAGS"]),
    )
    if described is None:
        return None
    services = described["services"]
    return services[0] if services else None


def client_token(seed: str, name: str) -> str:
    """CreateService's idempotency token (<= 36 ASCII chars): the same execution retrying the
    step gets the same service."""
    return hashlib.sha256(f"{seed}:{name}".encode()).hexdigest()[:32]


def ensure(placement: ServicePlacement) -> ServiceRecord:
    """The environment's service (adopted when it exists and is ours; its token is the
    execution's name, so a retried create makes one service)."""
    spec, network = placement["spec"], placement["network"]
    cluster_arn, task_definition_arn = placement["cluster_arn"], placement["task_definition_arn"]
    env = spec["name"]
    name = naming.service_name(env)
    service = spec["service"]
    existing = _describe(cluster_arn, name)
    if existing is not None and existing["status"] == "DRAINING":
        raise ResourceNotReady(f"service {name!r} from an earlier environment is still draining")
    if existing is not None and existing["status"] == "ACTIVE":
        naming.require_owned("service", name, naming.from_key_value_list(existing.get("tags")), env)
        if existing.get("taskDefinition") != task_definition_arn:
            # A resumed or re-run provisioning with a changed spec: converge to it.
            client("ecs").update_service(
                cluster=cluster_arn,
                service=name,
                taskDefinition=task_definition_arn,
                desiredCount=int(service["desired_count"]),
            )
        return {"arn": existing["serviceArn"], "name": name, "cluster_arn": cluster_arn}

    created = client("ecs").create_service(
        cluster=cluster_arn,
        serviceName=name,
        taskDefinition=task_definition_arn,
        desiredCount=int(service["desired_count"]),
        capacityProviderStrategy=[
            {"capacityProvider": item["provider"], "weight": item["weight"], "base": item["base"]}
            for item in spec["cluster"]["capacity_providers"]
        ],
        platformVersion="LATEST",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": network["subnet_ids"],
                "securityGroups": [placement["tasks_security_group_id"]],
                "assignPublicIp": "ENABLED" if service["assign_public_ip"] else "DISABLED",
            }
        },
        loadBalancers=[
            {
                "targetGroupArn": group["arn"],
                "containerName": spec["container"]["name"],
                "containerPort": int(spec["container"]["port"]),
            }
            for group in placement["target_groups"]
        ],
        healthCheckGracePeriodSeconds=int(service["health_check_grace_period_seconds"]),
        deploymentConfiguration={
            "deploymentCircuitBreaker": {
                "enable": bool(service["circuit_breaker"]),
                "rollback": bool(service["circuit_breaker"]),
            },
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        },
        enableExecuteCommand=bool(service["enable_execute_command"]),
        propagateTags="SERVICE",
        enableECSManagedTags=True,
        tags=naming.as_ecs_tags(naming.environment_tags(env, spec["tags"])),
        clientToken=client_token(placement["execution_name"], name),
    )["service"]
    return {"arn": created["serviceArn"], "name": name, "cluster_arn": cluster_arn}


def stopped_task_reasons(
    cluster: str, name: str, task_definition_arn: str | None = None
) -> list[str]:
    """Why each stopped task of the service (of one task definition, when named) stopped."""
    return _stopped_task_reasons(cluster, name, None, task_definition_arn)


def _stopped_task_reasons(
    cluster: str, name: str, deployment_id: str | None, task_definition_arn: str | None = None
) -> list[str]:
    ecs = client("ecs")
    arns = ecs.list_tasks(cluster=cluster, serviceName=name, desiredStatus="STOPPED")["taskArns"]
    reasons: list[str] = []
    for start in range(0, len(arns), 100):
        for task in ecs.describe_tasks(cluster=cluster, tasks=arns[start : start + 100])["tasks"]:
            if deployment_id and task.get("startedBy") not in (None, "", deployment_id):
                continue
            if task_definition_arn and task.get("taskDefinitionArn") != task_definition_arn:
                continue
            containers = [
                f"{c.get('name')}: {c.get('reason') or 'exit code ' + str(c.get('exitCode'))}"
                for c in task.get("containers", [])
                if c.get("reason") or c.get("exitCode") not in (None, 0)
            ]
            reason = task.get("stoppedReason") or "stopped"
            reasons.append(reason + (f" ({'; '.join(containers)})" if containers else ""))
    return reasons


def healthy_targets(target_group_arns: list[str]) -> dict[str, int]:
    """Target group name -> its targets the load balancer finds healthy."""
    elbv2 = client("elbv2")
    healthy = {}
    for arn in target_group_arns:
        descriptions = elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
        healthy[arn.split("/")[-2]] = sum(
            1 for item in descriptions if item["TargetHealth"]["State"] == "healthy"
        )
    return healthy


def check_stable(
    cluster_arn: str, service_name: str, target_group_arns: list[str]
) -> ServiceStability:
    """One look at the service. Ready when its single deployment is COMPLETED, runningCount ==
    desiredCount and every target group has that many healthy targets. Hopeless (tasks keep
    stopping, or the circuit breaker failed the deployment) raises ServiceUnstable with the
    stopped tasks' reasons."""
    service = _describe(cluster_arn, service_name)
    if service is None or service["status"] != "ACTIVE":
        raise AwsRequestFailed(f"service {service_name} is gone while waiting for it to be stable")
    deployments = service.get("deployments", [])
    primary: dict[str, Any] = next((d for d in deployments if d.get("status") == "PRIMARY"), {})
    rollout = primary.get("rolloutState")
    desired = int(service["desiredCount"])
    reasons = _stopped_task_reasons(cluster_arn, service_name, primary.get("id"))
    if rollout == "FAILED" or len(reasons) >= failed_task_threshold(desired):
        why = primary.get("rolloutStateReason") or "tasks keep stopping"
        shown = "; ".join(reasons[:MAX_REASONS]) or "no stopped task found"
        raise ServiceUnstable(
            f"service {service_name} cannot become stable ({why}): {len(reasons)} task(s) "
            f"stopped: {shown}"
        )
    running = int(service.get("runningCount", 0))
    settled = rollout == "COMPLETED" and len(deployments) == 1 and running == desired
    # The targets' health only matters once ECS is done: looking earlier spends the ELBv2
    # Describe* rate every environment polls from.
    healthy = healthy_targets(target_group_arns) if settled else {}
    ready = settled and all(count >= desired for count in healthy.values())
    healthy_text = ", ".join(f"{count} in {name}" for name, count in healthy.items())
    if not settled:
        healthy_text = "not looked at before the rollout completes"
    return {
        "ready": ready,
        "rollout_state": rollout,
        "running": running,
        "desired": desired,
        "healthy_targets": healthy,
        "stopped_tasks": len(reasons),
        # What a deadline's failure quotes (the state machine reads no JSON into its message).
        "summary": f"rollout {rollout or 'not started'}, {len(deployments)} deployment(s), "
        f"{running} of {desired} task(s) running, healthy targets: {healthy_text or 'none'}",
    }


def find(env: str, cluster_arn: str | None) -> str | None:
    if cluster_arn is None:
        return None
    service = _describe(cluster_arn, naming.service_name(env))
    if service is None or service["status"] == "INACTIVE":
        return None
    tags = naming.from_key_value_list(service.get("tags"))
    return str(service["serviceArn"]) if naming.owned_by(tags, env) else None


def delete(env: str, cluster_arn: str | None) -> ServiceDeleted:
    """Stop the one-off tasks still running (a pre-traffic command cut short by a rollback),
    then scale the service to zero and delete it (force). Tasks then drain and stop; see
    check_deleted."""
    stopped = one_off_task.stop_all(cluster_arn)
    arn = find(env, cluster_arn)
    if arn is None or cluster_arn is None:
        return {"deleted": [], "stopped_tasks": stopped}
    ecs = client("ecs")
    name = naming.service_name(env)
    try:
        ecs.update_service(cluster=cluster_arn, service=name, desiredCount=0)
        ecs.delete_service(cluster=cluster_arn, service=name, force=True)
    except Exception as exc:
        if error_code(exc) in ("ServiceNotFoundException", "ServiceNotActiveException"):
            return {"deleted": [], "stopped_tasks": stopped}
        raise
    return {"deleted": [arn], "stopped_tasks": stopped}


def check_deleted(env: str, cluster_arn: str | None) -> ServiceDeletion:
    """Ready when the service is INACTIVE (or gone) and none of its tasks is still stopping."""
    if cluster_arn is None:
        return {"ready": True, "tasks_remaining": 0}
    name = naming.service_name(env)
    service = _describe(cluster_arn, name)
    status = service["status"] if service else "MISSING"
    ecs = client("ecs")
    try:
        remaining = ecs.list_tasks(cluster=cluster_arn, desiredStatus="RUNNING")["taskArns"]
        stopping_arns = ecs.list_tasks(cluster=cluster_arn, desiredStatus="STOPPED")["taskArns"]
    except Exception as exc:
        if error_code(exc) == "ClusterNotFoundException":
            return {"ready": True, "tasks_remaining": 0}
        raise
    stopping = 0
    for start in range(0, len(stopping_arns), 100):
        tasks = ecs.describe_tasks(cluster=cluster_arn, tasks=stopping_arns[start : start + 100])
        stopping += sum(1 for task in tasks["tasks"] if task.get("lastStatus") != "STOPPED")
    left = len(remaining) + stopping
    return {
        "ready": status in ("INACTIVE", "MISSING") and left == 0,
        "tasks_remaining": left,
        "status": status,
        "summary": f"service {status}, {left} task(s) still stopping",
    }
