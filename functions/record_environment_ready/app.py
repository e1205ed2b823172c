"""Record the environment as ready, schedule its expiry and announce it."""

from typing import Any

from fargate_env import lifecycle
from fargate_env.observability import step


@step("record_environment_ready")
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return lifecycle.ready(event["spec"], event["execution_id"], event["outcome"])
