"""Delete the target groups (after the listeners that used them)."""

from typing import Any

from fargate_env import target_groups
from fargate_env.observability import step
from fargate_env.payloads import Deleted


@step("delete_target_groups")
def lambda_handler(event: dict[str, Any], context: Any) -> Deleted:
    return target_groups.delete(event["name"], event["inventory"]["target_groups"])
