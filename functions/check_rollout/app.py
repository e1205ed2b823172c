"""Look once at the rolling deployment (fails when it was rolled back or cannot finish)."""

from typing import Any

from fargate_env import update
from fargate_env.observability import step
from fargate_env.payloads import RolloutLook, ServiceStability


@step("check_rollout")
def lambda_handler(event: RolloutLook, context: Any) -> ServiceStability:
    return update.check_rollout(event)
