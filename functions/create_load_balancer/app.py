"""Create one load balancer; it does not wait for the load balancer to be active."""

from typing import Any

from fargate_env import load_balancers
from fargate_env.observability import step


@step("create_load_balancer")
def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return load_balancers.ensure(
        event["spec"], event["load_balancer"], event["network"], event["security_group_id"]
    )
