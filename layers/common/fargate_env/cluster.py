"""The ECS cluster: Fargate capacity providers, Container Insights."""

from __future__ import annotations

from typing import Any

from fargate_env import naming
from fargate_env.aws import client
from fargate_env.errors import ResourceNotReady, TransientAwsError, error_code
from fargate_env.payloads import Created, Deleted, NormalisedSpec


def _describe(name_or_arn: str) -> dict[str, Any] | None:
    clusters = client("ecs").describe_clusters(clusters=[name_or_arn], include=["TAGS"])["clusters"]
    active = [cluster for cluster in clusters if cluster.get("status") == "ACTIVE"]
    return active[0] if active else None


CAPACITY_PROVIDERS = ["FARGATE", "FARGATE_SPOT"]
#: ECS's answer while its service-linked role, created by the account's first CreateCluster,
#: is not assumable yet (aws/containers-roadmap#2614): it goes away within seconds.
_ROLE_PROPAGATING = "Unable to assume the service linked role"


def _strategy(spec: NormalisedSpec) -> list[dict[str, Any]]:
    return [
        {"capacityProvider": item["provider"], "weight": item["weight"], "base": item["base"]}
        for item in spec["cluster"]["capacity_providers"]
    ]


def _create(spec: NormalisedSpec, name: str) -> dict[str, Any]:
    """CreateCluster (it returns the existing cluster when the name is taken: idempotent)."""
    try:
        return dict(
            client("ecs").create_cluster(
                clusterName=name,
                tags=naming.as_ecs_tags(naming.environment_tags(spec["name"], spec["tags"])),
                settings=[
                    {
                        "name": "containerInsights",
                        "value": "enabled" if spec["cluster"]["container_insights"] else "disabled",
                    }
                ],
                capacityProviders=CAPACITY_PROVIDERS,
                defaultCapacityProviderStrategy=_strategy(spec),
            )["cluster"]
        )
    except Exception as exc:
        if error_code(exc) == "InvalidParameterException" and _ROLE_PROPAGATING in str(exc):
            raise TransientAwsError(
                f"cluster {name!r}: ECS's service-linked role is still being created in this "
                f"account (first cluster); retrying: {exc}"
            ) from exc
        raise


def ensure(spec: NormalisedSpec) -> Created:
    env = spec["name"]
    name = naming.cluster_name(env)
    existing = _describe(name)
    if existing is None:
        created = _create(spec, name)
        return {"arn": created["clusterArn"], "name": name}
    naming.require_owned("cluster", name, naming.from_key_value_list(existing.get("tags")), env)
    if not set(CAPACITY_PROVIDERS) <= set(existing.get("capacityProviders") or []):
        # Left by a create that failed on the service-linked role after making the cluster:
        # the service's capacity provider strategy needs them.
        client("ecs").put_cluster_capacity_providers(
            cluster=name,
            capacityProviders=CAPACITY_PROVIDERS,
            defaultCapacityProviderStrategy=_strategy(spec),
        )
    return {"arn": existing["clusterArn"], "name": name}


def find(env: str) -> str | None:
    existing = _describe(naming.cluster_name(env))
    if existing is None:
        return None
    tags = naming.from_key_value_list(existing.get("tags"))
    return str(existing["clusterArn"]) if naming.owned_by(tags, env) else None


def delete(env: str) -> Deleted:
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
            raise ResourceNotReady(f"cluster {arn} still has services or tasks: {exc}") from exc
        raise
    return {"deleted": [arn]}
