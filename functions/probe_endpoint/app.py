"""The endpoint probe: attached to the VPC, it makes one HTTP GET of a load balancer's private
address for the verify step (no AWS call: it needs no NAT). Invoked by verify_endpoint only."""

from typing import Any

from fargate_env import endpoint
from fargate_env.observability import step


@step("probe_endpoint")
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return endpoint.probe(
        event["url"], event["address"], event["timeout_seconds"], event.get("host")
    )
