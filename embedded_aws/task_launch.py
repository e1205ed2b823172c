"""What ECS's agent does when a Fargate task starts, before any container runs - offline: assume
the execution role, pull each image (ECR with the role's permissions, a private registry with
the credentials secret the task definition names), fetch each secret, open the log streams,
then assume the task role for the application. AWS stops a task that fails any of these with
its reason (ResourceInitializationError, CannotPullContainerError, "ECS was unable to assume
the role"); here the same reasons come from evaluating the roles' real policies (iam_policy.py)
against what the task definition asks for. Every launch is recorded: which roles the task ran
with and which secrets it was allowed to read.

A container that waits for another to be HEALTHY starts after that one's first passing health
check (Docker runs it `interval` seconds after the start); one whose check never passes (the
`unhealthy_containers` fault) stops the task once its retries are spent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from embedded_aws import iam_policy

ECS_TASKS = "ecs-tasks.amazonaws.com"
#: Registries that are public for anonymous pulls (Docker Hub, ECR Public, GitHub's, Quay).
PUBLIC_REGISTRIES = ("docker.io", "registry-1.docker.io", "public.ecr.aws", "ghcr.io", "quay.io")


@dataclass
class Launch:
    """What the agent found when it started tasks of one task definition."""

    task_definition_arn: str
    execution_role: str | None
    task_role: str | None
    #: "<container>.<VARIABLE>" -> the secret's ARN, for each secret the task was allowed to read.
    secrets_read: dict[str, str] = field(default_factory=dict)
    #: Container -> the credentials secret its image was pulled with.
    registry_credentials_read: dict[str, str] = field(default_factory=dict)
    #: The task's stoppedReason when it could not start (None: it starts).
    failure: str | None = None
    #: Seconds its containers' dependencies add before the main container runs.
    start_delay: float = 0.0
    #: Seconds after the start at which a dependency's failed health checks stop it.
    failure_delay: float = 0.0


def registry_of(image: str) -> str:
    """The host an image is pulled from ("docker.io" for a Docker Hub name)."""
    first = image.split("/", 1)[0]
    if "/" in image and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


@dataclass
class Account:
    """The moto backends the agent reads."""

    iam: Any
    secretsmanager: Any
    ssm: Any
    logs: Any
    account_id: str
    region: str
    private_registries: frozenset[str]
    unhealthy_containers: frozenset[str] = frozenset()
    missing_images: frozenset[str] = frozenset()


def _denied(role: iam_policy.RolePolicies, action: str, resource: str) -> str:
    session = role.arn.replace(":iam::", ":sts::").replace(":role/", ":assumed-role/")
    return (
        f"AccessDeniedException: User: {session.rsplit('/', 1)[0]}/{role.arn.rsplit('/', 1)[-1]}"
        f"/ecs-agent is not authorized to perform: {action} on resource: {resource} because no "
        "identity-based policy allows the action"
    )


def _secret_arn(reference: str) -> str:
    """The secret a valueFrom names (without ECS's json-key:version-stage:version-id)."""
    return ":".join(reference.split(":")[:7])


def _secret_exists(account: Account, arn: str) -> str | None:
    """The secret's value (None when it does not exist)."""
    if arn.split(":")[2] == "ssm":
        try:
            found = account.ssm.get_parameter(arn.split(":parameter", 1)[1])
        except Exception:  # moto's ParameterNotFound
            return None
        return None if found is None else str(found.value)
    for secret in account.secretsmanager.secrets.values():
        if secret.arn == arn or secret.arn.startswith(f"{arn}-"):
            return str(getattr(secret, "secret_string", "") or "")
    return None


def _read_secret(account: Account, role: iam_policy.RolePolicies, reference: str) -> str | None:
    """Why the agent cannot read the secret (None: it can)."""
    arn = _secret_arn(reference)
    service = arn.split(":")[2]
    action = "ssm:GetParameters" if service == "ssm" else "secretsmanager:GetSecretValue"
    source = "ssm" if service == "ssm" else "asm"
    if not role.allows(action, arn):
        return (
            "ResourceInitializationError: unable to pull secrets or registry auth: execution "
            f"resource retrieval failed: unable to retrieve secret from {source}: "
            + _denied(role, action, arn)
        )
    if _secret_exists(account, arn) is None:
        return (
            "ResourceInitializationError: unable to pull secrets or registry auth: execution "
            f"resource retrieval failed: unable to retrieve secret from {source}: "
            f"ResourceNotFoundException: {arn}"
        )
    return None


def _pull(
    account: Account, role: iam_policy.RolePolicies | None, container: dict[str, Any]
) -> str | None:
    """Why the image cannot be pulled (None: it can)."""
    from fargate_env import execution_role

    image = container["image"]
    if image in account.missing_images:
        # The agent's words for a tag the registry does not have.
        return f"CannotPullContainerError: pull image manifest for {image}: manifest unknown"
    repository = execution_role.ecr_repository_arn(image)
    if repository is not None:
        needed = [("ecr:GetAuthorizationToken", "*")]
        needed += [
            (action, repository) for action in ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
        ]
        for action, resource in needed:
            if role is None or not role.allows(action, resource):
                denied = _denied(role, action, resource) if role else "no execution role"
                return f"CannotPullContainerError: pull image manifest for {image}: {denied}"
        return None
    credentials = (container.get("repositoryCredentials") or {}).get("credentialsParameter")
    if registry_of(image) in account.private_registries and not credentials:
        return (
            f"CannotPullContainerError: pull access denied for {image}, repository does not "
            "exist or may require 'docker login': denied: requested access to the resource is "
            "denied"
        )
    return None


def _registry_login(
    account: Account, role: iam_policy.RolePolicies | None, container: dict[str, Any]
) -> str | None:
    credentials = (container.get("repositoryCredentials") or {}).get("credentialsParameter")
    if not credentials:
        return None
    if role is None:
        return "ResourceInitializationError: unable to pull registry auth: no execution role"
    problem = _read_secret(account, role, credentials)
    if problem:
        return problem
    try:
        value = json.loads(_secret_exists(account, _secret_arn(credentials)) or "")
    except ValueError:
        value = None
    if not isinstance(value, dict) or not {"username", "password"} <= set(value):
        return (
            "ResourceInitializationError: unable to pull registry auth: the secret "
            f"{credentials} is not a JSON object with a username and a password"
        )
    return None


def _logs(
    account: Account, role: iam_policy.RolePolicies | None, container: dict[str, Any]
) -> str | None:
    configuration = container.get("logConfiguration") or {}
    if configuration.get("logDriver") != "awslogs":
        return None
    options = configuration.get("options") or {}
    group = options.get("awslogs-group", "")
    stream = f"{options.get('awslogs-stream-prefix', 'ecs')}/{container['name']}/task"
    resource = (
        f"arn:aws:logs:{account.region}:{account.account_id}:log-group:{group}:log-stream:{stream}"
    )
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        if role is None or not role.allows(action, resource):
            denied = _denied(role, action, resource) if role else "no execution role"
            return f"ResourceInitializationError: failed to validate logger args: {denied}"
    if group not in account.logs.groups:
        return (
            "ResourceInitializationError: failed to validate logger args: The specified log "
            f"group does not exist: {group}"
        )
    return None


def _role(
    account: Account, arn: str | None, what: str
) -> tuple[iam_policy.RolePolicies | None, str | None]:
    if not arn:
        return None, None
    policies = iam_policy.role(account.iam, arn)
    if policies is None or not policies.trusts_service(ECS_TASKS):
        return None, (
            f"ECS was unable to assume the role '{arn}' that was provided for this task ({what}). "
            "Please verify that the role being passed has the proper trust relationship and "
            "permissions and that your IAM user has permissions to pass this role."
        )
    return policies, None


def _health_timing(
    containers: list[dict[str, Any]], account: Account
) -> tuple[float, float, str | None]:
    """(start delay, failure delay, failure) from the main container's HEALTHY dependencies."""
    by_name = {c["name"]: c for c in containers}
    delay, failure_delay, failure = 0.0, 0.0, None
    for dependency in containers[0].get("dependsOn") or []:
        other = by_name.get(dependency["containerName"]) or {}
        check = other.get("healthCheck")
        if dependency.get("condition") != "HEALTHY" or not check:
            continue
        interval = float(check.get("interval", 30))
        if other["name"] in account.unhealthy_containers:
            spent = float(check.get("startPeriod", 0)) + interval * int(check.get("retries", 3))
            failure_delay = max(failure_delay, spent)
            failure = (
                f"Task failed container health checks: container {other['name']} is UNHEALTHY, "
                f"and {containers[0]['name']} waits for it to be HEALTHY"
            )
        delay = max(delay, interval)
    return delay, failure_delay, failure


def inspect(definition: Any, account: Account) -> Launch:
    """The agent's work for a task of `definition` (a moto TaskDefinition)."""
    containers = list(definition.container_definitions or [])
    launch = Launch(
        task_definition_arn=definition.arn,
        execution_role=getattr(definition, "execution_role_arn", None),
        task_role=getattr(definition, "task_role_arn", None),
    )
    execution, failure = _role(account, launch.execution_role, "execution role")
    problems = [failure] if failure else []
    for container in containers:
        for check in (_pull, _registry_login, _logs):
            problem = check(account, execution, container)
            if problem:
                problems.append(problem)
            elif check is _registry_login and container.get("repositoryCredentials"):
                arn = container["repositoryCredentials"]["credentialsParameter"]
                launch.registry_credentials_read[container["name"]] = arn
        for secret in container.get("secrets") or []:
            problem = (
                _read_secret(account, execution, secret["valueFrom"])
                if execution
                else ("ResourceInitializationError: unable to pull secrets: no execution role")
            )
            if problem:
                problems.append(problem)
            else:
                launch.secrets_read[f"{container['name']}.{secret['name']}"] = secret["valueFrom"]
    _, failure = _role(account, launch.task_role, "task role")
    problems += [failure] if failure else []
    launch.start_delay, launch.failure_delay, failure = _health_timing(containers, account)
    problems += [failure] if failure else []
    launch.failure = problems[0] if problems else None
    return launch
