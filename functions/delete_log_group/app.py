"""Delete the CloudWatch Logs group."""

from typing import Any

from fargate_env import logs
from fargate_env.observability import step


@step("delete_log_group")
def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return logs.delete(event["name"])
