"""Prove every load balancer answers, by the strongest check the deployment allows (an HTTP GET
from here, one from inside the VPC, or the target health), within the function's time."""

from typing import Any

from fargate_env import endpoint
from fargate_env.observability import remaining_seconds, step


@step("verify_endpoint")
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return endpoint.verify_all(
        event["spec"], event["load_balancers"], event["network"], remaining_seconds(context)
    )
