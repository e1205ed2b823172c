"""Delete the CloudWatch Logs group."""

from typing import Any

from fargate_env import logs
from fargate_env.observability import step
from fargate_env.payloads import Deleted


@step("delete_log_group")
def lambda_handler(event: dict[str, Any], context: Any) -> Deleted:
    return logs.delete(event["name"])
