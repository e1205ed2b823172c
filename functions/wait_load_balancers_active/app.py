"""Check once whether every load balancer is active."""

from typing import Any

from fargate_env import load_balancers
from fargate_env.observability import step
from fargate_env.payloads import LoadBalancersActive


@step("wait_load_balancers_active")
def lambda_handler(event: dict[str, Any], context: Any) -> LoadBalancersActive:
    return load_balancers.check_active(event["load_balancer_arns"])
