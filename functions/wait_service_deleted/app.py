"""Check once whether the service is gone and its tasks have stopped."""

from typing import Any

from fargate_env import service
from fargate_env.observability import step
from fargate_env.payloads import ServiceDeletion


@step("wait_service_deleted")
def lambda_handler(event: dict[str, Any], context: Any) -> ServiceDeletion:
    return service.check_deleted(event["name"], event["inventory"]["cluster"])
