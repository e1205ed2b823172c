"""Resolve the VPC and subnets (the default VPC when the spec names none) and check that every
certificate, secret and file system the spec refers to exists."""

from typing import Any

from fargate_env import preflight
from fargate_env.observability import step
from fargate_env.payloads import Network


@step("resolve_network")
def lambda_handler(event: dict[str, Any], context: Any) -> Network:
    return preflight.check(event["spec"])
