"""Check once whether the service is gone and its tasks have stopped."""

from typing import Any

from fargate_env import service
from fargate_env.observability import step


@step("wait_service_deleted")
def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return service.check_deleted(event["name"], event["inventory"]["cluster"])
