"""Prove the new revision is what answers: every load balancer answers, every healthy
target runs the new revision."""

from typing import Any

from fargate_env import update
from fargate_env.observability import remaining_seconds, step


@step("verify_update")
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return update.verify(
        event["spec"], event["resources"], event["task_definition_arn"], remaining_seconds(context)
    )
