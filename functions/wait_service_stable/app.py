"""Check once whether the service is stable (fails when its tasks keep stopping)."""

from typing import Any

from fargate_env import service
from fargate_env.observability import step
from fargate_env.payloads import ServiceStability


@step("wait_service_stable")
def lambda_handler(event: dict[str, Any], context: Any) -> ServiceStability:
    return service.check_stable(
        event["cluster_arn"], event["service_name"], event["target_group_arns"]
    )
