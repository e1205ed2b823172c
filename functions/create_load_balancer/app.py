"""Create one load balancer (shared mode: place the environment on a gateway, whose load balancer
is made if none has room); it does not wait for the load balancer to be active."""

from typing import Any

from fargate_env import load_balancing
from fargate_env.observability import step
from fargate_env.payloads import LoadBalancerRecord


@step("create_load_balancer")
def lambda_handler(event: dict[str, Any], context: Any) -> LoadBalancerRecord:
    return load_balancing.ensure_load_balancer(
        event["spec"], event["load_balancer"], event["network"], event.get("security_group_id")
    )
