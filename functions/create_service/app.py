"""Create the ECS service behind the target groups, as soon as the listeners exist."""

from typing import Any

from fargate_env import service
from fargate_env.observability import step
from fargate_env.payloads import ServiceRecord


@step("create_service")
def lambda_handler(event: dict[str, Any], context: Any) -> ServiceRecord:
    return service.ensure(
        event["spec"],
        event["network"],
        event["cluster_arn"],
        event["task_definition_arn"],
        event["target_groups"],
        event["tasks_security_group_id"],
        event["execution_name"],
    )
