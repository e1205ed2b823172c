"""Register the task definition (Fargate, awsvpc, the environment's execution role, awslogs)."""

from typing import Any

from fargate_env import task_definition
from fargate_env.observability import step


@step("register_task_definition")
def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return task_definition.register(event["spec"], event["log_group"], event["execution_role_arn"])
