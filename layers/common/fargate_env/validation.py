"""Every entry point's input, checked before any work, each problem naming its field.

- Provisioning: {"spec": {...}} (console, CLI: optionally `requested_at`; an event's detail
  also names its `deployment`), returned as the normalised spec and the request's time. Also
  applies what the deployment allows (which secrets the task may read) and the size bounds.
- Teardown: {"name": "<environment>"} (optionally `requested_at`, `reason`, the recorded
  `resources`), returned as the name, the reason and the request's time.
- Either one as the EventBridge rules hand it over: {"detail": <the event's detail>, "time":
  <the event's time>}. The event's time is the request's unless the detail gives its own
  `requested_at` (EventBridge's time has whole seconds only).
A request with no time of its own was made when its execution started.
"""

from __future__ import annotations

import os
from typing import Any, Final

from fargate_env import clock, ingress, naming, ordering, sizes
from fargate_env.errors import InvalidRequest, InvalidSpec, invalid_spec

ALLOWED_SECRET_PREFIXES_ENV: Final = "ALLOWED_SECRET_ARN_PREFIXES"
#: The input the EventBridge rules give the machines (template.yaml, InputTransformer).
EVENT_FIELDS: Final = frozenset({"detail", "time"})
PROVISION_FIELDS: Final = frozenset({"spec", "deployment", ordering.FIELD})
TEARDOWN_FIELDS: Final = frozenset({"name", "deployment", ordering.FIELD, "reason", "resources"})
#: Fields the teardown machine adds to its own input: its creation-wait counter, and the id
#: Step Functions gives a nested execution (the rollback).
TEARDOWN_MACHINE_FIELDS: Final = frozenset(
    {"claim_polls", "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"}
)
TEARDOWN_REASONS: Final = ("requested", "expired", "rollback")
NAME_RULE: Final = (
    "must be 2-20 lowercase letters, digits and single hyphens, starting with a letter and "
    "ending with a letter or digit"
)


def allowed_secret_prefixes() -> list[str]:
    raw = os.environ.get(ALLOWED_SECRET_PREFIXES_ENV, "")
    return [prefix.strip() for prefix in raw.split(",") if prefix.strip()]


def check_secrets_allowed(secrets: dict[str, str], prefixes: list[str]) -> None:
    """The task execution role can read only secrets under the deployment's prefixes: a secret
    elsewhere would fail at task start with AccessDenied, so say it now, naming the field."""
    outside = [
        name
        for name, ref in sorted(secrets.items())
        if not any(ref.startswith(prefix) for prefix in prefixes)
    ]
    if outside:
        allowed = ", ".join(prefixes) or "none (this deployment allows no secrets)"
        raise invalid_spec(
            [
                f"container.secrets.{name}: not under the secret prefixes this deployment may "
                f"read ({allowed})"
                for name in outside
            ]
        )


def normalised_spec(raw: Any, security_group_rule_quota: int | None = None) -> dict[str, Any]:
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


def validate(execution_input: Any, started_at: str | None = None) -> dict[str, Any]:
    """The provisioning's input; returns {"spec": <normalised spec>, "requested_at": ...}."""
    request, event_time = _unwrap(execution_input, PROVISION_FIELDS, "provisioning")
    if request.get("spec") is None:
        raise InvalidSpec("spec: missing; the provisioning takes the environment spec as spec")
    _check_deployment(request, InvalidSpec)  # (the provisioning's input errors: InvalidSpec)
    when = requested_at(request, event_time, started_at)
    normalised = normalised_spec(request["spec"], security_group_rule_quota=ingress.rules_quota())
    check_secrets_allowed(dict(normalised["container"]["secrets"]), allowed_secret_prefixes())
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
