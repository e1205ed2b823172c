"""Update in place: a READY environment gets a new task definition revision (image, variables,
secrets, CPU/memory, container health check, sidecars), desired count and service settings,
and its target groups' health checks (changed in place before the rollout), rolled out by ECS
(maximum 200%, minimum healthy 100%: the old tasks serve until the new ones
are healthy), watched until the new deployment is COMPLETED and proven to be what answers.

What needs other infrastructure (the load balancers, the network, the cluster, the name, the
tags, the volumes, the container's name and port) is refused before anything changes, naming
each field: tear the environment down and create it with the new spec.

A failed update (tasks that never start, the circuit breaker, a deadline, a failed check) puts
the service back on the previous revision; the environment stays READY, serving it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from fargate_env import (
    bounds,
    endpoint,
    failures,
    lifecycle_events,
    registry,
    service,
    target_groups,
    task_definition,
    validation,
)
from fargate_env.aws import client
from fargate_env.errors import (
    DeploymentRolledBack,
    EndpointCheckFailed,
    EnvironmentNotFound,
    InfrastructureChange,
)
from fargate_env.payloads import (
    NormalisedSpec,
    RolloutLook,
    ServiceStability,
    UpdateFailed,
    UpdateSucceeded,
)

#: Top-level spec fields an update may change (every other one is infrastructure).
UPDATABLE: Final = frozenset(
    {"container", "sidecars", "service", "pre_traffic_task", "polling", "on_failure"}
)
#: ... except these parts of them, which the load balancers, the network or the log group hold.
FIXED_PARTS: Final = (
    ("container", "name"),
    ("container", "port"),
    ("container", "volumes"),
    ("container", "log_retention_days"),
    ("service", "assign_public_ip"),
)
ROLLED_BACK_TO_PREVIOUS: Final = "rolled back: the service runs the previous revision again"
ROLLBACK_FAILED: Final = (
    "rollback failed: the service may still run the new revision; start the update again with "
    "the previous spec"
)
FIX_AND_UPDATE: Final = "Fix the cause, then start the update again."
RECREATE: Final = (
    "Nothing was changed. These fields need new infrastructure: tear the environment down "
    "(fenv down) and create it with the new spec (fenv up)."
)


def _differences(before: Any, after: Any, path: str) -> list[str]:
    """The paths where two JSON values differ (leaves, or a list whose length changed)."""
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[str] = []
        for key in sorted(set(before) | set(after)):
            found += _differences(before.get(key), after.get(key), f"{path}.{key}" if path else key)
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            found
            for index, (old, new) in enumerate(zip(before, after, strict=True))
            for found in _differences(old, new, f"{path}[{index}]")
        ]
    return [] if before == after else [path]


def _without_health_checks(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The spec without its target groups' health checks (an update changes them in place)."""
    load_balancers = [
        {**lb, "target_group": {k: v for k, v in lb["target_group"].items() if k != "health_check"}}
        if isinstance(lb, dict) and isinstance(lb.get("target_group"), dict)
        else lb
        for lb in spec.get("load_balancers") or []
    ]
    return {**spec, "load_balancers": load_balancers} if "load_balancers" in spec else dict(spec)


def infrastructure_changes(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[str]:
    """The fields of `wanted` (a normalised spec) an update cannot apply to `current`."""
    current, wanted = _without_health_checks(current), _without_health_checks(wanted)
    fixed = {key: value for key, value in current.items() if key not in UPDATABLE}
    changed = _differences(fixed, {key: wanted.get(key) for key in fixed}, "")
    for section, field in FIXED_PARTS:
        before = (current.get(section) or {}).get(field)
        changed += _differences(
            before, (wanted.get(section) or {}).get(field), f"{section}.{field}"
        )
    return changed


def begin(execution_input: Any, execution_arn: str, started_at: str | None) -> dict[str, Any]:
    """Start of an update: the input validated as a provisioning's is (InvalidSpec naming the
    field), infrastructure changes refused (InfrastructureChange naming them), then the claim
    (UPDATING: one execution per environment, in request order). Nothing changes before the
    claim; `outcome` "superseded" means nothing changes at all."""
    request = validation.validate(execution_input, started_at)
    spec, requested_at = request["spec"], request["requested_at"]
    current = registry.get(spec["name"])
    if current is None or current.get("status") == registry.DELETED:
        raise EnvironmentNotFound(
            f"no environment named {spec['name']!r}: create it first (fenv up). Nothing was "
            "changed."
        )
    changed = infrastructure_changes(current.get("spec") or {}, spec)
    if changed:
        raise InfrastructureChange(
            f"{', '.join(changed)}: an update changes only the containers, the desired count, "
            "the service's settings and the target groups' health checks. " + RECREATE
        )
    claim = registry.claim_for_update(spec["name"], execution_arn, requested_at)
    item = claim.pop("item", None) or {}
    resources = item.get("resources") or {}
    previous = (resources.get("task_definition") or {}).get("arn")
    return {
        **claim,
        "spec": spec,
        "requested_at": requested_at,
        "resources": resources,
        "previous_task_definition_arn": previous,
        "max_polls": bounds.provision_polls(
            spec["polling"]["interval_seconds"], spec["polling"]["deadline_seconds"]
        ),
    }


def _deployment_configuration(spec: NormalisedSpec) -> dict[str, Any]:
    breaker = bool(spec["service"]["circuit_breaker"])
    return {
        "deploymentCircuitBreaker": {"enable": breaker, "rollback": breaker},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
    }


def roll_out(
    spec: NormalisedSpec, resources: dict[str, Any], task_definition_arn: str
) -> dict[str, Any]:
    """The target groups' health checks as the spec has them, then UpdateService to the new
    revision (a rolling deployment; idempotent: the same revision again starts no new
    deployment)."""
    target_groups.set_health_checks(spec["load_balancers"], resources["load_balancers"])
    settings = spec["service"]
    cluster_arn, name = resources["cluster"]["arn"], resources["service"]["name"]
    client("ecs").update_service(
        cluster=cluster_arn,
        service=name,
        taskDefinition=task_definition_arn,
        desiredCount=int(settings["desired_count"]),
        deploymentConfiguration=_deployment_configuration(spec),
        healthCheckGracePeriodSeconds=int(settings["health_check_grace_period_seconds"]),
        enableExecuteCommand=bool(settings["enable_execute_command"]),
    )
    return {"task_definition_arn": task_definition_arn, "service_name": name}


def _revision(arn: str | None) -> str:
    return (arn or "").split("/")[-1]


def check_rollout(look: RolloutLook) -> ServiceStability:
    """One look at the rolling deployment: ready when the new revision's deployment is
    COMPLETED with healthy targets. DeploymentRolledBack when the circuit breaker put the
    previous revision back; ServiceUnstable when the new tasks keep stopping."""
    cluster_arn, service_name = look["cluster_arn"], look["service_name"]
    task_definition_arn, target_group_arns = look["task_definition_arn"], look["target_group_arns"]
    described = client("ecs").describe_services(cluster=cluster_arn, services=[service_name])
    current = (described.get("services") or [{}])[0]
    primary: dict[str, Any] = next(
        (d for d in current.get("deployments", []) if d.get("status") == "PRIMARY"), {}
    )
    if primary and primary.get("taskDefinition") != task_definition_arn:
        reasons = service.stopped_task_reasons(cluster_arn, service_name, task_definition_arn)
        # The same reason once (a bad image stops every task alike).
        shown = "; ".join(list(dict.fromkeys(reasons))[: service.MAX_REASONS]) or "none found"
        raise DeploymentRolledBack(
            f"the deployment circuit breaker rolled service {service_name} back to "
            f"{_revision(primary.get('taskDefinition'))}: {len(reasons)} task(s) of "
            f"{_revision(task_definition_arn)} stopped: {shown}"
        )
    return service.check_stable(cluster_arn, service_name, target_group_arns)


def _serving_revisions(cluster_arn: str, target_group_arns: list[str]) -> dict[str, str]:
    """Each healthy target's address -> the task definition of the task behind it."""
    ecs, elbv2 = client("ecs"), client("elbv2")
    healthy = {
        item["Target"]["Id"]
        for arn in target_group_arns
        for item in elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
        if item["TargetHealth"]["State"] == "healthy"
    }
    arns = ecs.list_tasks(cluster=cluster_arn, desiredStatus="RUNNING")["taskArns"]
    by_address: dict[str, str] = {}
    for start in range(0, len(arns), 100):
        for task in ecs.describe_tasks(cluster=cluster_arn, tasks=arns[start : start + 100])[
            "tasks"
        ]:
            for attachment in task.get("attachments", []):
                for detail in attachment.get("details", []):
                    if detail.get("name") == "privateIPv4Address":
                        by_address[detail["value"]] = task.get("taskDefinitionArn", "")
    return {address: by_address.get(address, "") for address in sorted(healthy)}


def verify(
    spec: NormalisedSpec,
    resources: dict[str, Any],
    task_definition_arn: str,
    remaining_seconds: float,
) -> dict[str, Any]:
    """The new revision is what answers: every load balancer answers (endpoint.verify_all), and
    every healthy target is a task of the new revision (the old ones have drained)."""
    checked = endpoint.verify_all(
        spec, resources["load_balancers"], resources["network"], remaining_seconds
    )
    groups = [lb["target_group_arn"] for lb in resources["load_balancers"]]
    serving = _serving_revisions(resources["cluster"]["arn"], groups)
    others = sorted({_revision(arn) for arn in serving.values() if arn != task_definition_arn})
    if others:
        raise EndpointCheckFailed(
            f"the load balancers still send requests to {', '.join(others)}, not "
            f"{_revision(task_definition_arn)}"
        )
    return {**checked, "revision": _revision(task_definition_arn), "targets": len(serving)}


def updated(update: UpdateSucceeded) -> dict[str, Any]:
    """End of a successful update: old revisions cleaned, the registry READY with the new spec
    and the revision recorded (image, when, by which execution), "Environment Updated"."""
    spec, execution_arn, resources = update["spec"], update["execution_id"], update["resources"]
    revision, url, at = update["task_definition"], update["url"], update["at"]
    name = spec["name"]
    previous = (resources.get("task_definition") or {}).get("arn")
    cleaned = task_definition.clean_old(
        name,
        [arn for arn in (revision["arn"], previous) if arn],
        bounds.KEPT_TASK_DEFINITION_REVISIONS,
    )
    item = registry.get(name) or {}
    entry = {
        "task_definition": _revision(revision["arn"]),
        "image": spec["container"]["image"],
        "at": at,
        "execution": execution_arn,
    }
    history = [*(item.get("revisions") or []), entry][-bounds.RECORDED_REVISIONS :]
    recorded = registry.mark_updated(
        name,
        execution_arn,
        {
            "spec": spec,
            "resources": {**resources, "task_definition": revision},
            "revisions": history,
            "url": url,
        },
    )
    lifecycle_events.publish(
        lifecycle_events.UPDATED,
        {"name": name, "url": url, **entry, "cleaned_revisions": len(cleaned)},
    )
    return {"recorded": recorded, "revision": entry, "cleaned_revisions": cleaned}


def _back_to(name: str, resources: dict[str, Any], previous: str | None) -> None:
    """Put the target groups' health checks back as the recorded spec has them, and the service
    on the previous revision (nothing when it runs it already)."""
    recorded = (registry.get(name) or {}).get("spec")
    if recorded and recorded["load_balancers"] and resources.get("load_balancers"):
        target_groups.set_health_checks(recorded["load_balancers"], resources["load_balancers"])
    if not previous or not resources.get("service"):
        return
    cluster_arn, name = resources["cluster"]["arn"], resources["service"]["name"]
    described = client("ecs").describe_services(cluster=cluster_arn, services=[name])
    current = (described.get("services") or [{}])[0]
    if current.get("taskDefinition") != previous:
        client("ecs").update_service(cluster=cluster_arn, service=name, taskDefinition=previous)


def failed(update: UpdateFailed) -> dict[str, Any]:
    """End of a failed update: the service back on the previous revision, the environment
    READY again (the failure recorded), "Environment Update Failed", and the failure in its
    one shape as the Fail state's error and cause."""
    spec, execution_arn, failure = update["spec"], update["execution_id"], update["failure"]
    resources, previous = update["resources"], update.get("previous_task_definition_arn")
    # An error here is the Task's to retry (throttling) or to report (ROLLBACK_FAILED): the
    # claim it leaves is taken over by the next update or teardown (its execution has ended).
    _back_to(spec["name"], resources, previous)
    summary = failures.shape(
        spec["name"],
        str(failure.get("failed_step")),
        str(failure.get("error") or "UpdateFailed"),
        failures.message_of(failure.get("message"), fallback=str(failure.get("error") or "")),
        ROLLED_BACK_TO_PREVIOUS,
        FIX_AND_UPDATE,
    )
    recorded = registry.mark_updated(spec["name"], execution_arn, {"update_failure": summary})
    lifecycle_events.publish(
        lifecycle_events.UPDATE_FAILED, {**summary, "execution": execution_arn}
    )
    return {
        "recorded": recorded,
        "error": failures.execution_error(summary["error"]),
        "cause": json.dumps(summary),
    }
