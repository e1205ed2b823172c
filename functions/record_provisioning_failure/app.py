"""Record a failed provisioning and announce it; return the failure's summary."""

from typing import Any

from fargate_env import lifecycle
from fargate_env.observability import step


@step("record_provisioning_failure")
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return lifecycle.failed(
        event["spec"],
        event["execution_id"],
        event["failure"],
        event.get("resources") or {},
        event.get("rollback"),
    )
