"""Every entry point's input, checked before any work, each problem naming its field.

- Provisioning: {"spec": {...}} (console, CLI: optionally `requested_at`; an event's detail
  also names its `deployment`), returned as the normalised spec and the request's time. Also
  applies what the deployment allows, before anything is created: which secrets the
  environment may read (its own folder under the deployment's prefixes, plus the shared one),
  which role its tasks may run with, which ECR repositories it may pull from, and the size
  bounds (sizes.py). IAM enforces the same rules (template.yaml): these checks say it early,
  naming the field, instead of an AccessDenied half-way through.
- Teardown: {"name": "<environment>"} (optionally `requested_at`, `reason`, the recorded
  `resources`), returned as the name, the reason and the request's time.
- Either one as the EventBridge rules hand it over: {"detail": <the event's detail>, "time":
  <the event's time>}. The event's time is the request's unless the detail gives its own
  `requested_at` (EventBridge's time has whole seconds only).
A request with no time of its own was made when its execution started.
"""

from __future__ import annotations

import fnmatch
from typing import Any, Final

from fargate_env import (
    authentication,
    clock,
    containers,
    execution_role,
    gateways,
    ingress,
    naming,
    ordering,
    settings,
    sizes,
)
from fargate_env.errors import InvalidRequest, InvalidSpec, invalid_spec
from fargate_env.payloads import NormalisedSpec, ProvisioningRequest

ALLOWED_SECRET_PREFIXES_ENV: Final = "ALLOWED_SECRET_ARN_PREFIXES"
SHARED_SECRETS_ENV: Final = "SHARED_SECRETS_NAME"
DEFAULT_SHARED_SECRETS: Final = "_shared"
ALLOWED_TASK_ROLE_PREFIX_ENV: Final = "ALLOWED_TASK_ROLE_ARN_PREFIX"
ALLOWED_ECR_REPOSITORIES_ENV: Final = "ALLOWED_ECR_REPOSITORY_ARNS"
#: The input the EventBridge rules give the machines (template.yaml, InputTransformer).
EVENT_FIELDS: Final = frozenset({"detail", "time"})
PROVISION_FIELDS: Final = frozenset({"spec", "deployment", ordering.FIELD})
TEARDOWN_FIELDS: Final = frozenset({"name", "deployment", ordering.FIELD, "reason", "resources"})
#: Fields the teardown machine adds to its own input: its creation-wait counter, and the id
#: Step Functions gives a nested execution (the rollback).
TEARDOWN_MACHINE_FIELDS: Final = frozenset(
    {"claim_polls", "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"}
)
#: "reconciled": started by the reaper (reconcile.py).
TEARDOWN_REASONS: Final = ("requested", "expired", "rollback", "reconciled")
NAME_RULE: Final = (
    "must be 2-20 lowercase letters, digits and single hyphens, starting with a letter and "
    "ending with a letter or digit"
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


def check_secrets_allowed(spec: NormalisedSpec) -> list[str]:
    """Each container's secrets and registry credentials, and each load balancer's client
    secret, must be the environment's own: its execution role's permissions boundary allows
    nothing else (a task naming another environment's secret would never start), and the
    create_listeners step must not be a way to hand another environment's secret to ELBv2."""
    prefixes = allowed_secret_prefixes(spec["name"])
    problems = []
    for field, reference in authentication.secret_references(spec).items():
        service = reference.split(":")[2]
        ours = [prefix for prefix in prefixes if prefix.split(":")[2] == service]
        if not any(reference.startswith(prefix) for prefix in ours):
            allowed = " or ".join(ours) or "nowhere: this deployment allows no secrets"
            problems.append(
                f"{field}: not one of environment {spec['name']!r}'s secrets; it may read only "
                f"those under {allowed}"
            )
    return problems


def check_task_role_allowed(spec: NormalisedSpec) -> list[str]:
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


def check_images_allowed(spec: NormalisedSpec) -> list[str]:
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


def check_authentication_allowed(spec: NormalisedSpec) -> list[str]:
    """In shared mode the gateway's listeners carry the environment's route: authentication
    needs the HTTPS listener of a deployment with a gateway domain (a host-header rule);
    without one each environment has a plain-HTTP listener port, where ELBv2 refuses
    authenticate actions."""
    if spec.get("mode") != "shared" or gateways.Settings.load().routing == gateways.HOST:
        return []
    return [
        f"load_balancers[{index}].{authentication.FIELD}: not in shared mode on this "
        "deployment: its gateways route each environment by a plain-HTTP listener port (no "
        "GatewayDomain), and ELBv2 authenticates only on HTTPS listeners; use mode dedicated "
        "with an HTTPS listener, or a deployment with a gateway domain"
        for index, lb in enumerate(spec["load_balancers"])
        if lb.get(authentication.FIELD)
    ]


def normalised_spec(raw: Any, security_group_rule_quota: int | None = None) -> NormalisedSpec:
    """A spec validated, with its defaults, within the size bounds (the CLI checks the same)."""
    # Only here is pydantic imported: the teardown's steps validate their input without it.
    from fargate_env import spec as spec_model

    sizes.check_spec(raw)
    normalised = spec_model.normalise(
        spec_model.parse(raw, security_group_rule_quota=security_group_rule_quota)
    )
    sizes.check_spec(normalised, "spec (with its defaults)")
    sizes.check_task_definition(normalised)
    return normalised


def _refused(what: str, problems: list[str]) -> InvalidRequest:
    count = len(problems)
    return InvalidRequest(
        f"invalid {what} ({count} problem{'s' if count != 1 else ''}): " + "; ".join(problems)
    )


def _unwrap(execution_input: Any, fields: frozenset[str], what: str) -> tuple[dict[str, Any], Any]:
    """The request an input carries (itself, or an event's detail) and the event's time (None
    for an input that is not an event); unknown fields refused by name."""
    if not isinstance(execution_input, dict):
        raise InvalidRequest(f"input: the {what} takes a JSON object, not {execution_input!r}")
    if "detail" in execution_input:
        unknown = sorted(set(execution_input) - EVENT_FIELDS)
        if unknown:
            raise _refused(f"{what} event", [f"{field}: unknown field" for field in unknown])
        detail = execution_input["detail"]
        if not isinstance(detail, dict):
            raise InvalidRequest("detail: must be a JSON object")
        return _known(detail, fields, what, "detail."), execution_input.get("time")
    return _known(execution_input, fields, what, ""), None


def _known(
    request: dict[str, Any], fields: frozenset[str], what: str, prefix: str
) -> dict[str, Any]:
    unknown = sorted(set(request) - fields)
    if unknown:
        raise _refused(what, [f"{prefix}{field}: unknown field" for field in unknown])
    return request


def requested_at(request: dict[str, Any], event_time: Any, started_at: str | None) -> str:
    """When the request was made: its own requested_at, else its event's time, else when its
    execution started (else now)."""
    now = clock.now()
    if ordering.FIELD in request:
        return ordering.parse(request[ordering.FIELD], ordering.FIELD, now)
    if event_time is not None:
        return ordering.parse(event_time, "time", now)
    if started_at:
        return ordering.parse(started_at, "the execution's start time", now)
    return ordering.now_iso(now)


def _check_deployment(
    request: dict[str, Any], refused: type[InvalidRequest] = InvalidRequest
) -> None:
    requested_for = request.get("deployment")
    if requested_for is not None and requested_for != naming.deployment():
        raise refused(
            f"deployment: the request is for the deployment {requested_for!r}; this is "
            f"{naming.deployment()!r}. Nothing was changed."
        )


def validate(execution_input: Any, started_at: str | None = None) -> ProvisioningRequest:
    """The provisioning's input; returns {"spec": <normalised spec>, "requested_at": ...}."""
    request, event_time = _unwrap(execution_input, PROVISION_FIELDS, "provisioning")
    if request.get("spec") is None:
        raise InvalidSpec("spec: missing; the provisioning takes the environment spec as spec")
    _check_deployment(request, InvalidSpec)  # (the provisioning's input errors: InvalidSpec)
    when = requested_at(request, event_time, started_at)
    normalised = normalised_spec(request["spec"], security_group_rule_quota=ingress.rules_quota())
    problems = [
        *check_secrets_allowed(normalised),
        *check_task_role_allowed(normalised),
        *check_images_allowed(normalised),
        *check_authentication_allowed(normalised),
    ]
    if problems:
        raise invalid_spec(problems)
    return {"spec": normalised, "requested_at": when}


def environment_name(value: Any, field: str = "name") -> str:
    """An environment's name, or InvalidRequest naming `field`."""
    if not isinstance(value, str):
        raise InvalidRequest(f"{field}: must be the environment's name, a string")
    if not (2 <= len(value) <= naming.MAX_ENVIRONMENT_NAME) or not (
        naming.ENVIRONMENT_NAME_PATTERN.fullmatch(value)
    ):
        raise InvalidRequest(f"{field}: {value!r} {NAME_RULE}")
    return value


def validate_teardown(execution_input: Any, started_at: str | None = None) -> dict[str, Any]:
    """The teardown's input; returns its name, reason, request time and recorded resources."""
    request, event_time = _unwrap(
        execution_input, TEARDOWN_FIELDS | TEARDOWN_MACHINE_FIELDS, "teardown"
    )
    problems = []
    if "name" not in request:
        problems.append("name: missing; the teardown takes the environment's name")
    reason = request.get("reason", "requested")
    if reason not in TEARDOWN_REASONS:
        problems.append(f"reason: {reason!r} is not one of {', '.join(TEARDOWN_REASONS)}")
    resources = request.get("resources")
    if resources is not None and not isinstance(resources, dict):
        problems.append("resources: must be a JSON object (the recorded resources)")
    if problems:
        raise _refused("teardown input", problems)
    _check_deployment(request)
    return {
        "name": environment_name(request["name"]),
        "reason": reason,
        "requested_at": requested_at(request, event_time, started_at),
        "resources": resources,
    }
