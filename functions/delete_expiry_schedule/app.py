"""Delete the environment's expiry schedule, if it has one."""

from typing import Any

from fargate_env import schedules
from fargate_env.observability import step
from fargate_env.payloads import Deleted


@step("delete_expiry_schedule")
def lambda_handler(event: dict[str, Any], context: Any) -> Deleted:
    return schedules.delete(event["name"])
