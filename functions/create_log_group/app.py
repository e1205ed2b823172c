"""Create the CloudWatch Logs group the tasks write to."""

from typing import Any

from fargate_env import logs
from fargate_env.observability import step


@step("create_log_group")
def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return logs.ensure(event["spec"])
