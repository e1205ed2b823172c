"""Make one gateway the plan registered: its security group, load balancer and listeners."""

from typing import Any

from fargate_env import gateways
from fargate_env.observability import step


@step("make_gateway")
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return gateways.make(event["gateway_id"])
