"""Claim the environment name in the registry: one execution per environment."""

from typing import Any

from fargate_env import lifecycle
from fargate_env.observability import step


@step("claim_environment")
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return lifecycle.claim(event["spec"], event["execution_id"], event["requested_at"])
