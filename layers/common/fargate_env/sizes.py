"""Size bounds, checked on the spec before any resource exists, each naming its field.

- The spec: at most SPEC_MAX_BYTES as JSON. Step Functions bounds every state's input and
  output, a Task's payload and each variable at 256 KiB (Step Functions quotas, "Maximum input
  or output size for a task, state, or execution"). The spec travels in most Task payloads next
  to what the execution accumulates (the network, every resource id, the verification, a
  failure and its rollback), and the registry keeps it with the resources in one DynamoDB item
  (400 KB). 64 KiB leaves those three quarters of the 256 KiB; a spec of 64 KiB is already far
  beyond any real one (the fullest sample is under 2 KiB).
- The task definition ECS would receive: at most 64 KiB (Amazon ECS service quotas, "Task
  definition size"). It is computed from the request the register step sends
  (task_definition.build_request plus its tags), less a margin, since ECS does not document
  how it counts. Environment variables are most of it: the error names them when they are.
"""

from __future__ import annotations

import json
from typing import Any, Final

from fargate_env import containers, naming, task_definition
from fargate_env.errors import InvalidSpec
from fargate_env.payloads import NormalisedSpec

SPEC_MAX_BYTES: Final = 64 * 1024
TASK_DEFINITION_MAX_BYTES: Final = 64 * 1024
#: Kept below ECS's limit: its own count of a request may differ from this JSON's.
TASK_DEFINITION_MARGIN_BYTES: Final = 1024
#: Stand-ins as long as the longest real values, for sizing before the deployment is known: a
#: role ARN with a 64-character name, a 128-character stack name.
SIZING_ROLE_ARN: Final = "arn:aws-us-gov:iam::123456789012:role/" + "r" * 64
SIZING_DEPLOYMENT: Final = "d" * 128


def json_bytes(value: Any) -> int:
    """The size of `value` as compact JSON, in bytes (non-ASCII escaped, as SDKs send it)."""
    return len(json.dumps(value, separators=(",", ":")))


def check_spec(raw: Any, field: str = "spec") -> None:
    """The spec as the user wrote it (or normalised): at most SPEC_MAX_BYTES."""
    size = json_bytes(raw)
    if size > SPEC_MAX_BYTES:
        raise InvalidSpec(
            f"{field}: {size:,} bytes as JSON; at most {SPEC_MAX_BYTES:,} (it travels through "
            "Step Functions with everything the execution records, within 256 KiB). Move large "
            "values out of the spec: into secrets, the image, or files the task reads"
        )


def task_definition_bytes(spec: NormalisedSpec) -> int:
    """The size of the RegisterTaskDefinition request (tags included) a normalised spec makes."""
    return json_bytes(_sized_request(spec))


def _sized_request(spec: NormalisedSpec) -> dict[str, Any]:
    log_group = naming.log_group_name(spec["name"])
    request = task_definition.build_request(spec, log_group, SIZING_ROLE_ARN)
    if request.get("taskRoleArn") or spec["service"]["enable_execute_command"]:
        request["taskRoleArn"] = max(request.get("taskRoleArn") or "", SIZING_ROLE_ARN, key=len)
    tags = naming.environment_tags(spec["name"], spec["tags"]) | {
        naming.MANAGED_BY_TAG: SIZING_DEPLOYMENT,
        task_definition.FINGERPRINT_TAG: "f" * 32,
    }
    return {**request, "tags": naming.as_ecs_tags(tags)}


def check_task_definition(spec: NormalisedSpec) -> None:
    """The task definition a normalised spec makes fits ECS's limit, less the margin; beyond
    it, the error names the field that makes it and each container's share, largest first."""
    request = _sized_request(spec)
    size = json_bytes(request)
    limit = TASK_DEFINITION_MAX_BYTES - TASK_DEFINITION_MARGIN_BYTES
    if size <= limit:
        return
    environment = spec["container"]["environment"]
    variables = json_bytes([{"name": k, "value": v} for k, v in environment.items()])
    field = "container.environment" if variables * 2 > size else "container"
    shares = sorted(
        (
            (json_bytes(definition), entry.path)
            for entry, definition in zip(
                containers.entries(spec), request["containerDefinitions"], strict=True
            )
        ),
        reverse=True,
    )
    parts = ", ".join(f"{path} {count:,} bytes" for count, path in shares)
    raise InvalidSpec(
        f"{field}: the task definition ECS would receive is {size:,} bytes (environment "
        f"variables: {variables:,}; {parts}); ECS allows {TASK_DEFINITION_MAX_BYTES:,} "
        f"(64 KiB) and fargate-env keeps {TASK_DEFINITION_MARGIN_BYTES:,} of them in reserve. "
        "Move large values into secrets (SSM parameters, Secrets Manager) or files the task "
        "reads; shorten commands or health checks"
    )
