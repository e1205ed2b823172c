"""The first provisioning step: the spec, validated and normalised, or InvalidSpec naming every
bad field. Also applies what the deployment allows, before anything is created: which secrets
the environment may read (its own folder under the deployment's prefixes, plus the shared
one), which role its tasks may run with, which ECR repositories it may pull from, and ECS's
64 KiB for the task definition. IAM enforces the same rules (template.yaml): these checks say
it early, naming the field, instead of an AccessDenied half-way through."""

from __future__ import annotations

import fnmatch
from typing import Any, Final

from fargate_env import containers, execution_role, ingress, naming, settings, task_definition
from fargate_env import spec as spec_model
from fargate_env.errors import InvalidSpec, invalid_spec

ALLOWED_SECRET_PREFIXES_ENV: Final = "ALLOWED_SECRET_ARN_PREFIXES"
SHARED_SECRETS_ENV: Final = "SHARED_SECRETS_NAME"
DEFAULT_SHARED_SECRETS: Final = "_shared"
ALLOWED_TASK_ROLE_PREFIX_ENV: Final = "ALLOWED_TASK_ROLE_ARN_PREFIX"
ALLOWED_ECR_REPOSITORIES_ENV: Final = "ALLOWED_ECR_REPOSITORY_ARNS"
#: Stands for the execution role's ARN when the task definition is measured (the longest a
#: role of ours can have: its path with a 128-character stack name, a 64-character name).
_ROLE_PLACEHOLDER: Final = (
    "arn:aws:iam::123456789012:role/fargate-env/" + "s" * 128 + "/" + "r" * 64
)


def _listed(variable: str) -> list[str]:
    return [item.strip() for item in settings.get(variable, "").split(",") if item.strip()]


def allowed_secret_prefixes(env: str) -> list[str]:
    """Under each of the deployment's prefixes: the environment's own folder, and the shared
    one (its name starts with "_", which no environment name can)."""
    shared = settings.get(SHARED_SECRETS_ENV) or DEFAULT_SHARED_SECRETS
    return [
        f"{prefix}{folder}/"
        for prefix in _listed(ALLOWED_SECRET_PREFIXES_ENV)
        for folder in (env, shared)
    ]


def check_secrets_allowed(spec: dict[str, Any]) -> list[str]:
    """Each container's secrets and registry credentials must be the environment's own: its
    execution role's permissions boundary allows nothing else, so a task naming another
    environment's secret would never start."""
    prefixes = allowed_secret_prefixes(spec["name"])
    problems = []
    for field, reference in containers.secret_references(spec).items():
        service = reference.split(":")[2]
        ours = [prefix for prefix in prefixes if prefix.split(":")[2] == service]
        if not any(reference.startswith(prefix) for prefix in ours):
            allowed = " or ".join(ours) or "nowhere: this deployment allows no secrets"
            problems.append(
                f"{field}: not one of environment {spec['name']!r}'s secrets; it may read only "
                f"those under {allowed}"
            )
    return problems


def check_task_role_allowed(spec: dict[str, Any]) -> list[str]:
    """Only roles under the deployment's path may be passed to the tasks (iam:PassRole)."""
    role = spec["container"].get("task_role_arn")
    prefix = settings.get(ALLOWED_TASK_ROLE_PREFIX_ENV, "")
    if role is None or (prefix and role.startswith(prefix) and len(role) > len(prefix)):
        return []
    where = f"roles under {prefix}" if prefix else "none (no AppTaskRolePath)"
    return [
        f"container.task_role_arn: not a role this deployment may give to tasks; it may pass "
        f"{where} only"
    ]


def check_images_allowed(spec: dict[str, Any]) -> list[str]:
    """An ECR image comes from this account's repositories or those the deployment lists."""
    patterns = _listed(ALLOWED_ECR_REPOSITORIES_ENV)
    problems = []
    for field, image in containers.images(spec).items():
        repository = execution_role.ecr_repository_arn(image)
        if repository and not any(fnmatch.fnmatchcase(repository, p) for p in patterns):
            problems.append(
                f"{field}: this deployment may not pull from the ECR repository {repository} "
                f"(allowed: {', '.join(patterns) or 'none'}; other accounts' repositories are "
                "added with the EcrPullRepositoryArns parameter)"
            )
    return problems


def check_task_definition_size(spec: dict[str, Any]) -> list[str]:
    """ECS refuses a task definition above 64 KiB (RegisterTaskDefinition)."""
    request = task_definition.build_request(
        spec, naming.log_group_name(spec["name"]), _ROLE_PLACEHOLDER
    )
    size = task_definition.size(request)
    if size <= task_definition.MAX_TASK_DEFINITION_BYTES:
        return []
    largest = sorted(
        (
            (task_definition.size(definition), entry.path)
            for entry, definition in zip(
                containers.entries(spec), request["containerDefinitions"], strict=True
            )
        ),
        reverse=True,
    )
    parts = ", ".join(f"{path} {bytes_:,} bytes" for bytes_, path in largest)
    return [
        f"container: the task definition would be {size:,} bytes; ECS allows "
        f"{task_definition.MAX_TASK_DEFINITION_BYTES:,} (64 KiB): {parts}; shorten environment "
        "values, commands or health checks"
    ]


def validate(execution_input: Any) -> dict[str, Any]:
    """The execution input is {"spec": {...}} (from an event: plus the `deployment` it is for,
    which must be this one); returns {"spec": <normalised spec>}."""
    if not isinstance(execution_input, dict) or execution_input.get("spec") is None:
        raise InvalidSpec('spec: missing; the execution input is {"spec": {...}}')
    requested_for = execution_input.get("deployment")
    if requested_for is not None and requested_for != naming.deployment():
        raise InvalidSpec(
            f"deployment: the request is for the deployment {requested_for!r}; this is "
            f"{naming.deployment()!r}. Nothing was changed."
        )
    raw_spec = execution_input["spec"]
    parsed = spec_model.parse(raw_spec, security_group_rule_quota=ingress.rules_quota())
    spec = spec_model.normalise(parsed)
    problems = [
        *check_secrets_allowed(spec),
        *check_task_role_allowed(spec),
        *check_images_allowed(spec),
        *check_task_definition_size(spec),
    ]
    if problems:
        raise invalid_spec(problems)
    return {"spec": spec}
