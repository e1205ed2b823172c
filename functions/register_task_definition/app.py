"""Register the task definition (Fargate, awsvpc, the environment's execution role, awslogs)."""

from typing import Any

from fargate_env import task_definition
from fargate_env.observability import step
from fargate_env.payloads import TaskDefinitionRecord


@step("register_task_definition")
def lambda_handler(event: dict[str, Any], context: Any) -> TaskDefinitionRecord:
    return task_definition.register(event["spec"], event["log_group"], event["execution_role_arn"])
