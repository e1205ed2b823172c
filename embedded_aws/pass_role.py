"""iam:PassRole, offline. ECS checks it on the caller of RegisterTaskDefinition (the roles the
task definition names) and of RunTask (the roles of the task definition it runs, and any its
overrides name), with iam:PassedToService ecs-tasks.amazonaws.com (IAM user guide, "Grant a
user permissions to pass a role to an AWS service"). moto checks nothing; here the calling
step's real role (deployed from template.yaml) is evaluated, and a role it may not pass is
refused with ECS's AccessDeniedException - so a task role outside the deployment's allowed
path can never reach a task, whatever a step's code would try.
"""

from __future__ import annotations

import json
from typing import Any

from embedded_aws import iam_policy

SERVICE = "ecs-tasks.amazonaws.com"


def passed_roles(response: Any, action: str, ecs_backend: Any) -> list[str]:
    """The roles an ECS request hands to ECS."""
    if action == "RegisterTaskDefinition":
        names = ("executionRoleArn", "taskRoleArn")
        return [role for name in names if (role := response._get_param(name))]
    if action == "RunTask":
        roles = []
        try:
            definition = ecs_backend.describe_task_definition(response._get_param("taskDefinition"))
        except Exception:
            definition = None  # ECS answers that itself
        if definition is not None:
            # moto sets these attributes only when the task definition has them
            roles += [getattr(definition, "execution_role_arn", None)]
            roles += [getattr(definition, "task_role_arn", None)]
        overrides = response._get_param("overrides") or {}
        roles += [overrides.get("executionRoleArn"), overrides.get("taskRoleArn")]
        return [role for role in roles if role]
    return []


def refusal(
    caller_role: str, roles: list[str], iam_backend: Any
) -> tuple[int, dict[str, str], str] | None:
    """ECS's AccessDeniedException when the caller may not pass one of `roles` (None: it may)."""
    caller = iam_policy.role(iam_backend, caller_role)
    context: iam_policy.Context = {"iam:PassedToService": SERVICE}
    for role in roles:
        if caller is None or not caller.allows("iam:PassRole", role, context):
            session = caller_role.replace(":iam::", ":sts::").replace(":role/", ":assumed-role/")
            body = {
                "__type": "AccessDeniedException",
                "message": f"User: {session} is not authorized to perform: iam:PassRole on "
                f"resource: {role} because no identity-based policy allows the iam:PassRole "
                "action",
            }
            return 400, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(body)
    return None
