"""Deregister every task definition revision, then delete them."""

from typing import Any

from fargate_env import task_definition
from fargate_env.observability import step
from fargate_env.payloads import TaskDefinitionsDeleted


@step("delete_task_definitions")
def lambda_handler(event: dict[str, Any], context: Any) -> TaskDefinitionsDeleted:
    return task_definition.delete_all(event["name"])
