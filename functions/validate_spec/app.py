"""Validate the provisioning request (the spec, with its defaults; its time), before any AWS
write."""

from typing import Any

from fargate_env import validation
from fargate_env.observability import step
from fargate_env.payloads import ProvisioningRequest


@step("validate_spec")
def lambda_handler(event: dict[str, Any], context: Any) -> ProvisioningRequest:
    return validation.validate(event.get("input"), event.get("started_at"))
