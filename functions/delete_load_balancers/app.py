"""Delete the listeners and the load balancers."""

from typing import Any

from fargate_env import load_balancers
from fargate_env.observability import step


@step("delete_load_balancers")
def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return load_balancers.delete(event["name"], event["inventory"]["load_balancers"])
