"""The first provisioning step: the spec, validated and normalised, or InvalidSpec naming every
bad field. Also applies what the deployment allows (which secrets the task may read)."""

from __future__ import annotations

import os
from typing import Any, Final

from fargate_env import ingress, naming
from fargate_env import spec as spec_model
from fargate_env.errors import InvalidSpec, invalid_spec

ALLOWED_SECRET_PREFIXES_ENV: Final = "ALLOWED_SECRET_ARN_PREFIXES"


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
    check_secrets_allowed(dict(parsed.container.secrets), allowed_secret_prefixes())
    return {"spec": spec_model.normalise(parsed)}
