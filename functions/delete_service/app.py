"""Scale the service to zero and delete it; its tasks then drain and stop."""

from typing import Any

from fargate_env import service
from fargate_env.observability import step
from fargate_env.payloads import ServiceDeleted


@step("delete_service")
def lambda_handler(event: dict[str, Any], context: Any) -> ServiceDeleted:
    return service.delete(event["name"], event["inventory"]["cluster"])
