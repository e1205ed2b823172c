"""Create the environment's own task execution role: its images, its logs, its secrets only."""

from typing import Any

from fargate_env import execution_role
from fargate_env.observability import step


@step("create_execution_role")
def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return execution_role.ensure(event["spec"], event["log_group"])
