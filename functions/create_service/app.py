"""Create the ECS service behind the target groups, as soon as the listeners exist."""

from typing import Any

from fargate_env import service
from fargate_env.observability import step
from fargate_env.payloads import ServicePlacement, ServiceRecord


@step("create_service")
def lambda_handler(event: ServicePlacement, context: Any) -> ServiceRecord:
    return service.ensure(event)
