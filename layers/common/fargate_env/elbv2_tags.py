"""Finding ELBv2 resources (load balancers, target groups) by name prefix and environment tag."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fargate_env import naming
from fargate_env.aws import client


def tags_of(arns: list[str]) -> dict[str, dict[str, str]]:
    """ARN -> tags, in DescribeTags batches of 20 (the API's limit)."""
    result: dict[str, dict[str, str]] = {}
    for start in range(0, len(arns), 20):
        described = client("elbv2").describe_tags(ResourceArns=arns[start : start + 20])
        for item in described["TagDescriptions"]:
            result[item["ResourceArn"]] = naming.from_key_value_list(item.get("Tags"))
    return result


def owned(resources: Iterable[dict[str, Any]], arn_key: str, env: str) -> list[dict[str, Any]]:
    """The resources among `resources` tagged as this environment's."""
    candidates = list(resources)
    tags = tags_of([resource[arn_key] for resource in candidates])
    return [r for r in candidates if naming.owned_by(tags.get(r[arn_key], {}), env)]


def _named_for(
    env: str, name_key: str, resources: Iterable[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Resources whose names follow this environment's pattern (fenv-<env>-<id>)."""
    prefix = f"{naming.PREFIX}-{env}-"
    return [resource for resource in resources if str(resource[name_key]).startswith(prefix)]


def find_owned(env: str, operation: str, list_key: str, name_key: str, arn_key: str) -> list[str]:
    """The ARNs of this environment's resources of one kind: every page of `operation` (a
    Describe* call), named by its pattern and tagged as its own."""
    found: list[dict[str, Any]] = []
    for page in client("elbv2").get_paginator(operation).paginate():
        found.extend(_named_for(env, name_key, page[list_key]))
    return [resource[arn_key] for resource in owned(found, arn_key, env)]
