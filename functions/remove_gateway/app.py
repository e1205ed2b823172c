"""Remove one empty gateway marked DRAINING: its load balancer, record, security group, item."""

from typing import Any

from fargate_env import gateways
from fargate_env.observability import step


@step("remove_gateway")
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return gateways.remove(event["gateway_id"])
