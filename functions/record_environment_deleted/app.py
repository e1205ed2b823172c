"""Record the environment as deleted and announce it."""

from typing import Any

from fargate_env import lifecycle
from fargate_env.observability import step


@step("record_environment_deleted")
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return lifecycle.deleted(
        event["name"], event["execution_id"], event["reason"], event["summary"]
    )
