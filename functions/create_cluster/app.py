"""Create the ECS cluster (Fargate capacity providers, Container Insights)."""

from typing import Any

from fargate_env import cluster
from fargate_env.observability import step


@step("create_cluster")
def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return cluster.ensure(event["spec"])
