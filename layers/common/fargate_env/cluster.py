"""The ECS cluster: Fargate capacity providers, Container Insights."""

from __future__ import annotations

from typing import Any

from fargate_env import naming
from fargate_env.aws import client
from fargate_env.errors import ResourceNotReady, error_code


def _describe(name_or_arn: str) -> dict[str, Any] | None:
    clusters = client("ecs").describe_clusters(clusters=[name_or_arn], include=["TAGS"])["clusters"]
    active = [cluster for cluster in clusters if cluster.get("status") == "ACTIVE"]
    return active[0] if active else None


def ensure(spec: dict[str, Any]) -> dict[str, Any]:
    env = spec["name"]
    name = naming.cluster_name(env)
    existing = _describe(name)
    if existing is not None:
        naming.require_owned("cluster", name, naming.from_key_value_list(existing.get("tags")), env)
        return {"arn": existing["clusterArn"], "name": name}
    strategy = spec["cluster"]["capacity_providers"]
    # CreateCluster returns the existing cluster when the name is taken: idempotent by itself.
    created = client("ecs").create_cluster(
        clusterName=name,
        tags=naming.as_ecs_tags(naming.environment_tags(env, spec["tags"])),
        settings=[
            {
                "name": "containerInsights",
                "value": "enabled" if spec["cluster"]["container_insights"] else "disabled",
            }
        ],
        capacityProviders=["FARGATE", "FARGATE_SPOT"],
        defaultCapacityProviderStrategy=[
            {"capacityProvider": item["provider"], "weight": item["weight"], "base": item["base"]}
            for item in strategy
        ],
    )["cluster"]
    return {"arn": created["clusterArn"], "name": name}


def find(env: str) -> str | None:
    existing = _describe(naming.cluster_name(env))
    if existing is None:
        return None
    tags = naming.from_key_value_list(existing.get("tags"))
    return str(existing["clusterArn"]) if naming.owned_by(tags, env) else None


def delete(env: str) -> dict[str, Any]:
    arn = find(env)
    if arn is None:
        return {"deleted": []}
    try:
        client("ecs").delete_cluster(cluster=arn)
    except Exception as exc:
        code = error_code(exc)
        if code == "ClusterNotFoundException":
            return {"deleted": []}
        if code in (
            "ClusterContainsServicesException",
            "ClusterContainsTasksException",
            "UpdateInProgressException",
        ):
            raise ResourceNotReady(f"cluster {arn} still has services or tasks: {exc}") from None
        raise
    return {"deleted": [arn]}
