"""Resolve the VPC and subnets (the default VPC when the spec names none)."""

from typing import Any

from fargate_env import network
from fargate_env.observability import step


@step("resolve_network")
def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return network.resolve(event["spec"])
