"""UpdateService to the new revision: a rolling deployment with the circuit breaker."""

from typing import Any

from fargate_env import update
from fargate_env.observability import step


@step("roll_out_update")
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return update.roll_out(event["spec"], event["resources"], event["task_definition_arn"])
