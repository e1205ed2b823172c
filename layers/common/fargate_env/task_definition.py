"""The task definition: the application's blueprint (Fargate, awsvpc, logs to CloudWatch).

RegisterTaskDefinition is never idempotent (each call is a new revision), so the request's
fingerprint is stored as a tag: a retry with the same spec reuses the latest revision instead of
stacking identical ones.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Final

from fargate_env import naming, settings
from fargate_env.aws import client, region
from fargate_env.errors import error_code
from fargate_env.payloads import (
    ContainerSpec,
    NormalisedSpec,
    SidecarSpec,
    TaskDefinitionRecord,
    TaskDefinitionsDeleted,
    VolumeSpec,
)

FINGERPRINT_TAG: Final = "fargate-env:fingerprint"
NOT_FOUND_MESSAGE: Final = "Unable to describe task definition"
#: The deployment's role for ECS Exec when the spec names no task role of its own.
EXEC_TASK_ROLE_ENV: Final = "TASK_ROLE_ARN"


def _command_fields(container: ContainerSpec | SidecarSpec) -> dict[str, Any]:
    """What every container may set: its command line, user, files and how it waits."""
    fields: dict[str, Any] = {}
    if container["command"]:
        fields["command"] = list(container["command"])
    if container["entry_point"]:
        fields["entryPoint"] = list(container["entry_point"])
    if container.get("working_directory"):
        fields["workingDirectory"] = container["working_directory"]
    if container.get("user"):
        fields["user"] = container["user"]
    if container.get("read_only_root_filesystem"):
        fields["readonlyRootFilesystem"] = True
    if container.get("depends_on"):
        fields["dependsOn"] = [
            {"containerName": item["container"], "condition": item["condition"]}
            for item in container["depends_on"]
        ]
    if container.get("registry_credentials_arn"):
        fields["repositoryCredentials"] = {
            "credentialsParameter": container["registry_credentials_arn"]
        }
    health = container.get("health_check")
    if health:
        fields["healthCheck"] = {
            "command": list(health["command"]),
            "interval": int(health["interval_seconds"]),
            "timeout": int(health["timeout_seconds"]),
            "retries": int(health["retries"]),
            "startPeriod": int(health["start_period_seconds"]),
        }
    return fields


def _container_definition(
    spec: NormalisedSpec, container: ContainerSpec | SidecarSpec, log_group: str
) -> dict[str, Any]:
    """One container: image, variables, secrets and logs (each container its own streams,
    `<environment>/<container>/<task id>`), plus what it sets of the rest."""
    return {
        "name": container["name"],
        "image": container["image"],
        "environment": [
            {"name": name, "value": value}
            for name, value in sorted(container["environment"].items())
        ],
        # ECS resolves these at task start with the execution role: the values never pass
        # through the state machine or the task definition.
        "secrets": [
            {"name": name, "valueFrom": ref} for name, ref in sorted(container["secrets"].items())
        ],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group,
                "awslogs-region": region(),
                "awslogs-stream-prefix": spec["name"],
            },
        },
        "stopTimeout": int(spec["container"]["stop_timeout_seconds"]),
        **_command_fields(container),
    }


def _main_container(spec: NormalisedSpec, log_group: str) -> dict[str, Any]:
    container = spec["container"]
    definition = _container_definition(spec, container, log_group)
    definition["essential"] = True
    definition["portMappings"] = [
        {"containerPort": int(container["port"]), "protocol": "tcp", "name": "app"}
    ]
    definition["mountPoints"] = [
        {
            "sourceVolume": volume["name"],
            "containerPath": volume["container_path"],
            "readOnly": bool(volume["read_only"]),
        }
        for volume in container["volumes"]
    ]
    # ECS Exec needs an init process to reap the SSM agent's children.
    if container.get("init_process") or spec["service"]["enable_execute_command"]:
        definition["linuxParameters"] = {"initProcessEnabled": True}
    if container.get("ulimits"):
        definition["ulimits"] = [
            {"name": item["name"], "softLimit": item["soft_limit"], "hardLimit": item["hard_limit"]}
            for item in container["ulimits"]
        ]
    return definition


def _sidecar(spec: NormalisedSpec, sidecar: SidecarSpec, log_group: str) -> dict[str, Any]:
    definition = _container_definition(spec, sidecar, log_group)
    definition["essential"] = bool(sidecar["essential"])
    definition["cpu"] = int(sidecar["cpu"])
    if sidecar["memory"]:
        definition["memory"] = sidecar["memory"]
    return definition


def _volume(volume: VolumeSpec) -> dict[str, Any]:
    efs = volume.get("efs")
    if not efs:
        return {"name": volume["name"]}  # Fargate ephemeral storage, bind-mounted
    config: dict[str, Any] = {
        "fileSystemId": efs["file_system_id"],
        "rootDirectory": efs["root_directory"],
        "transitEncryption": "ENABLED" if efs["transit_encryption"] else "DISABLED",
    }
    if efs.get("access_point_id"):
        config["authorizationConfig"] = {"accessPointId": efs["access_point_id"], "iam": "DISABLED"}
    return {"name": volume["name"], "efsVolumeConfiguration": config}


def task_role(spec: NormalisedSpec) -> str | None:
    """The role the application runs with: the spec's, else the deployment's ECS Exec role
    when Exec is on (it allows nothing but Exec's channels), else none (no AWS permissions)."""
    if spec["container"].get("task_role_arn"):
        return str(spec["container"]["task_role_arn"])
    if spec["service"]["enable_execute_command"]:
        return settings.get(EXEC_TASK_ROLE_ENV) or None
    return None


def build_request(spec: NormalisedSpec, log_group: str, execution_role_arn: str) -> dict[str, Any]:
    """The RegisterTaskDefinition request for `spec` (without tags)."""
    container = spec["container"]
    request: dict[str, Any] = {
        "family": naming.task_family(spec["name"]),
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": str(container["cpu"]),
        "memory": str(container["memory"]),
        "runtimePlatform": {
            "cpuArchitecture": container["cpu_architecture"],
            "operatingSystemFamily": "LINUX",
        },
        "executionRoleArn": execution_role_arn,
        "containerDefinitions": [
            _main_container(spec, log_group),
            *(_sidecar(spec, sidecar, log_group) for sidecar in spec.get("sidecars") or []),
        ],
        "volumes": [_volume(volume) for volume in container["volumes"]],
    }
    if container["ephemeral_storage_gib"]:
        request["ephemeralStorage"] = {"sizeInGiB": container["ephemeral_storage_gib"]}
    role = task_role(spec)
    if role:
        request["taskRoleArn"] = role
    return request


def fingerprint(request: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()[:32]


def not_found(exc: Exception) -> bool:
    """ECS's answer to DescribeTaskDefinition for a family without an ACTIVE revision, or a
    revision that does not exist: a ClientException "Unable to describe task definition." ECS
    answers other client errors with ClientException too, so only that message means absent."""
    return error_code(exc) == "ClientException" and NOT_FOUND_MESSAGE in str(exc)


def _latest(family: str) -> dict[str, Any] | None:
    try:
        return dict(client("ecs").describe_task_definition(taskDefinition=family, include=["TAGS"]))
    except Exception as exc:
        if not_found(exc):
            return None  # the family has no ACTIVE revision
        raise


def register(spec: NormalisedSpec, log_group: str, execution_role_arn: str) -> TaskDefinitionRecord:
    env = spec["name"]
    request = build_request(spec, log_group, execution_role_arn)
    wanted = fingerprint(request)
    latest = _latest(request["family"])
    if latest is not None:
        tags = naming.from_key_value_list(latest.get("tags"))
        naming.require_owned("task definition family", request["family"], tags, env)
        if tags.get(FINGERPRINT_TAG) == wanted:
            definition = latest["taskDefinition"]
            return {"arn": definition["taskDefinitionArn"], "revision": definition["revision"]}
    tags = naming.environment_tags(env, spec["tags"]) | {FINGERPRINT_TAG: wanted}
    created = client("ecs").register_task_definition(**request, tags=naming.as_ecs_tags(tags))
    definition = created["taskDefinition"]
    return {"arn": definition["taskDefinitionArn"], "revision": definition["revision"]}


def revisions(family: str, status: str) -> list[str]:
    paginator = client("ecs").get_paginator("list_task_definitions")
    arns: list[str] = []
    for page in paginator.paginate(familyPrefix=family, status=status):
        # familyPrefix is a prefix: keep only this exact family.
        arns.extend(
            arn
            for arn in page["taskDefinitionArns"]
            if arn.split("/")[-1].rsplit(":", 1)[0] == family
        )
    return arns


def _owned(arn: str, env: str) -> bool:
    try:
        described = client("ecs").describe_task_definition(taskDefinition=arn, include=["TAGS"])
    except Exception as exc:
        if not_found(exc):
            return False
        raise
    return naming.owned_by(naming.from_key_value_list(described.get("tags")), env)


def find(env: str) -> list[str]:
    """Every revision (ACTIVE or INACTIVE) of the environment's family that is ours."""
    family = naming.task_family(env)
    every = revisions(family, "ACTIVE") + revisions(family, "INACTIVE")
    return [arn for arn in every if _owned(arn, env)]


def delete_all(env: str) -> TaskDefinitionsDeleted:
    """Deregister every ACTIVE revision, then delete every INACTIVE one (ECS keeps INACTIVE
    revisions forever otherwise)."""
    family = naming.task_family(env)
    ecs = client("ecs")
    deregistered = []
    for arn in revisions(family, "ACTIVE"):
        if not _owned(arn, env):
            continue
        ecs.deregister_task_definition(taskDefinition=arn)
        deregistered.append(arn)
    inactive = [arn for arn in revisions(family, "INACTIVE") if _owned(arn, env)]
    deleted: list[str] = []
    for start in range(0, len(inactive), 10):  # DeleteTaskDefinitions takes at most 10
        batch = inactive[start : start + 10]
        response = ecs.delete_task_definitions(taskDefinitions=batch)
        deleted.extend(item["taskDefinitionArn"] for item in response.get("taskDefinitions", []))
        failures = [f for f in response.get("failures", []) if f.get("reason") != "MISSING"]
        if failures:
            from fargate_env.errors import AwsRequestFailed

            raise AwsRequestFailed(f"DeleteTaskDefinitions failed for: {failures}")
    return {"deregistered": deregistered, "deleted": deleted}


def clean_old(env: str, keep: list[str], kept: int) -> list[str]:
    """Deregister and delete the environment's revisions beyond the newest `kept` (never one in
    `keep`: what the service runs, what it may go back to); only revisions tagged as ours."""
    family = naming.task_family(env)
    newest_first = sorted(revisions(family, "ACTIVE"), key=lambda arn: -int(arn.rsplit(":", 1)[1]))
    old = [arn for arn in newest_first[kept:] if arn not in keep and _owned(arn, env)]
    ecs = client("ecs")
    for arn in old:
        ecs.deregister_task_definition(taskDefinition=arn)
    for start in range(0, len(old), 10):  # DeleteTaskDefinitions takes at most 10
        ecs.delete_task_definitions(taskDefinitions=old[start : start + 10])
    return old
