"""Validate the teardown request, then claim the environment for it (or report that it is still
being created, or that a later create supersedes it)."""

from typing import Any

from fargate_env import lifecycle
from fargate_env.observability import step


@step("begin_teardown")
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return lifecycle.begin_teardown(
        event.get("input"), event["execution_id"], event.get("started_at")
    )
