"""Run the spec's pre-traffic command (a migration, a seed) as a task of the environment."""

from typing import Any

from fargate_env import one_off_task
from fargate_env.observability import step
from fargate_env.payloads import OneOffTaskRun


@step("run_pre_traffic_task")
def lambda_handler(event: OneOffTaskRun, context: Any) -> dict[str, Any]:
    return one_off_task.start(event, "pre-traffic task")
