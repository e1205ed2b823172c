"""Put the service back on its previous revision, record the failure (the environment stays
READY) and announce it; returns the failure the execution fails with."""

from typing import Any

from fargate_env import update
from fargate_env.observability import step


@step("record_update_failure")
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return update.failed(
        event["spec"],
        event["execution_id"],
        event["failure"],
        event["resources"],
        event.get("previous_task_definition_arn"),
    )
