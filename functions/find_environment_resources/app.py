"""Find what the environment has: recorded ids first, then name and tag lookups."""

from typing import Any

from fargate_env import inventory
from fargate_env.observability import step
from fargate_env.payloads import Inventory


@step("find_environment_resources")
def lambda_handler(event: dict[str, Any], context: Any) -> Inventory:
    return inventory.find(event["name"], event.get("resources"))
