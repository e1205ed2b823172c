"""Create the CloudWatch Logs group the tasks write to."""

from typing import Any

from fargate_env import logs
from fargate_env.observability import step
from fargate_env.payloads import LogGroupRecord


@step("create_log_group")
def lambda_handler(event: dict[str, Any], context: Any) -> LogGroupRecord:
    return logs.ensure(event["spec"])
