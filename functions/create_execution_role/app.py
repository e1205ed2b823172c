"""Create the environment's own task execution role: its images, its logs, its secrets only."""

from typing import Any

from fargate_env import execution_role
from fargate_env.observability import step
from fargate_env.payloads import Created


@step("create_execution_role")
def lambda_handler(event: dict[str, Any], context: Any) -> Created:
    return execution_role.ensure(event["spec"], event["log_group"])
