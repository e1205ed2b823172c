"""Delete the environment's execution role (its policy first)."""

from typing import Any

from fargate_env import execution_role
from fargate_env.observability import step
from fargate_env.payloads import Deleted


@step("delete_execution_role")
def lambda_handler(event: dict[str, Any], context: Any) -> Deleted:
    return execution_role.delete(event["name"])
