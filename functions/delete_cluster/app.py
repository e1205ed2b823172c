"""Delete the cluster (after its service and tasks are gone)."""

from typing import Any

from fargate_env import cluster
from fargate_env.observability import step
from fargate_env.payloads import Deleted


@step("delete_cluster")
def lambda_handler(event: dict[str, Any], context: Any) -> Deleted:
    return cluster.delete(event["name"])
