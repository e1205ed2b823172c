"""Run the spec's pre-traffic command (a migration, a seed) as a task of the environment."""

from typing import Any

from fargate_env import one_off_task
from fargate_env.observability import step


@step("run_pre_traffic_task")
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return one_off_task.start(
        event["spec"],
        event["network"],
        event["cluster_arn"],
        event["task_definition_arn"],
        event["tasks_security_group_id"],
        event["command"],
        event["timeout_seconds"],
        event["execution_name"],
        "pre-traffic task",
    )
