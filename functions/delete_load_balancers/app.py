"""Delete the listeners and the load balancers (shared mode: the environment's routes on its
gateway, never the gateway's own)."""

from typing import Any

from fargate_env import load_balancing
from fargate_env.observability import step


@step("delete_load_balancers")
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return load_balancing.delete(event["name"], event["inventory"], event.get("mode"))
