"""Create one load balancer's target group (IP targets, health check, stickiness)."""

from typing import Any

from fargate_env import target_groups
from fargate_env.observability import step
from fargate_env.payloads import TargetGroupRecord


@step("create_target_group")
def lambda_handler(event: dict[str, Any], context: Any) -> TargetGroupRecord:
    return target_groups.ensure(event["spec"], event["load_balancer"], event["network"])
