"""Create one load balancer's listeners, forwarding to its target group (shared mode: the
environment's rule, or listener, on its gateway)."""

from typing import Any

from fargate_env import load_balancing
from fargate_env.observability import step
from fargate_env.payloads import ListenersRecord


@step("create_listeners")
def lambda_handler(event: dict[str, Any], context: Any) -> ListenersRecord | dict[str, Any]:
    return load_balancing.ensure_listeners(
        event["spec"], event["load_balancer"], event["created"], event["target_group_arn"]
    )
