"""Look once at the pre-traffic task: done, still running, or failed (with its last log lines)."""

from typing import Any

from fargate_env import one_off_task
from fargate_env.observability import step


@step("check_pre_traffic_task")
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return one_off_task.check(event["task"])
