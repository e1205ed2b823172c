"""Revoke the rules between the groups, then delete the security groups."""

from typing import Any

from fargate_env import security_groups
from fargate_env.observability import step
from fargate_env.payloads import Deleted


@step("delete_security_groups")
def lambda_handler(event: dict[str, Any], context: Any) -> Deleted:
    return security_groups.delete_for_environment(
        event["name"], event["inventory"]["security_groups"]
    )
