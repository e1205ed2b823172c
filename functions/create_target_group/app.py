"""Create one load balancer's target group (IP targets, health check, stickiness)."""

from typing import Any

from fargate_env import target_groups
from fargate_env.observability import step


@step("create_target_group")
def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return target_groups.ensure(event["spec"], event["load_balancer"], event["network"])
