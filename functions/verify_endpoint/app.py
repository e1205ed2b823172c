"""Prove the page answers: a real HTTP request to each load balancer's DNS name."""

from typing import Any

from fargate_env import endpoint
from fargate_env.observability import step


@step("verify_endpoint")
def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return endpoint.verify_all(event["urls"])
