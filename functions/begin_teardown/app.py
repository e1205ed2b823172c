"""Claim the environment for teardown (or report that it is still being created)."""

from typing import Any

from fargate_env import lifecycle
from fargate_env.observability import step


@step("begin_teardown")
def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return lifecycle.begin_teardown(event["name"], event["execution_id"], event["reason"])
