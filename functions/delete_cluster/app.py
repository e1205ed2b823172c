"""Delete the cluster (after its service and tasks are gone)."""

from typing import Any

from fargate_env import cluster
from fargate_env.observability import step


@step("delete_cluster")
def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return cluster.delete(event["name"])
