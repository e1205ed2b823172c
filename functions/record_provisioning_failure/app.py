"""Record a failed provisioning and announce it; return the failure's summary."""

from typing import Any

from fargate_env import lifecycle
from fargate_env.observability import step
from fargate_env.payloads import ProvisioningFailed


@step("record_provisioning_failure")
def lambda_handler(event: ProvisioningFailed, context: Any) -> dict[str, Any]:
    return lifecycle.failed(event)
