"""Create the ECS cluster (Fargate capacity providers, Container Insights)."""

from typing import Any

from fargate_env import cluster
from fargate_env.observability import step
from fargate_env.payloads import Created


@step("create_cluster")
def lambda_handler(event: dict[str, Any], context: Any) -> Created:
    return cluster.ensure(event["spec"])
