"""Create the load balancers' and the tasks' security groups and their rules."""

from typing import Any

from fargate_env import security_groups
from fargate_env.observability import step
from fargate_env.payloads import SecurityGroupsRecord


@step("create_security_groups")
def lambda_handler(event: dict[str, Any], context: Any) -> SecurityGroupsRecord:
    return security_groups.create_for_environment(event["spec"], event["network"])
