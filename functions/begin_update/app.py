"""Validate the update request, refuse infrastructure changes, then claim the environment
for it (or report that a later request supersedes it)."""

from typing import Any

from fargate_env import update
from fargate_env.observability import step


@step("begin_update")
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return update.begin(event.get("input"), event["execution_id"], event.get("started_at"))
