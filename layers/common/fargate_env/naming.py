"""Names and tags of every resource an environment owns.

Every resource is named from the environment name and tagged with it. Name + tag make each
create step idempotent and each resource findable when the recorded ids are lost; the fixed
`fenv-` prefix lets IAM policies scope the application to its own resources by ARN.
"""

from __future__ import annotations

import re
from typing import Final

PREFIX: Final = "fenv"
ENVIRONMENT_TAG: Final = "fargate-env:environment"
MANAGED_BY_TAG: Final = "fargate-env:managed-by"
MANAGED_BY_VALUE: Final = "fargate-env"
RESERVED_TAG_PREFIX: Final = "fargate-env:"
LOG_GROUP_ROOT: Final = "/fargate-env"

# ELBv2 load balancer and target group names are at most 32 characters:
# "fenv-" (5) + environment (<= 20) + "-" (1) + load balancer id (<= 6) = 32.
MAX_ELBV2_NAME: Final = 32
MAX_ENVIRONMENT_NAME: Final = 20
MAX_LOAD_BALANCER_ID: Final = 6
# AWS allows 50 tags per resource on ECS, ELBv2, EC2 and CloudWatch Logs; we add two of our own.
MAX_TAGS_PER_RESOURCE: Final = 50
SYSTEM_TAG_COUNT: Final = 2
MAX_USER_TAGS: Final = MAX_TAGS_PER_RESOURCE - SYSTEM_TAG_COUNT

# \Z, not $: a trailing newline must not pass.
ENVIRONMENT_NAME_PATTERN: Final = re.compile(r"^[a-z](?:-?[a-z0-9])+\Z")


def cluster_name(env: str) -> str:
    return f"{PREFIX}-{env}"


def service_name(env: str) -> str:
    return f"{PREFIX}-{env}"


def task_family(env: str) -> str:
    return f"{PREFIX}-{env}"


def log_group_name(env: str) -> str:
    return f"{LOG_GROUP_ROOT}/{env}"


def load_balancer_name(env: str, lb_id: str) -> str:
    return f"{PREFIX}-{env}-{lb_id}"


def target_group_name(env: str, lb_id: str) -> str:
    return f"{PREFIX}-{env}-{lb_id}"


def load_balancer_security_group_name(env: str, lb_id: str) -> str:
    return f"{PREFIX}-{env}-{lb_id}-lb"


def tasks_security_group_name(env: str) -> str:
    return f"{PREFIX}-{env}-tasks"


def schedule_name(env: str) -> str:
    return f"{PREFIX}-{env}-expiry"


def environment_tags(env: str, user_tags: dict[str, str] | None = None) -> dict[str, str]:
    """The tags every resource of `env` carries: the user's, then ours (ours win)."""
    tags = dict(user_tags or {})
    tags[ENVIRONMENT_TAG] = env
    tags[MANAGED_BY_TAG] = MANAGED_BY_VALUE
    return tags


def as_key_value_list(tags: dict[str, str]) -> list[dict[str, str]]:
    """ELBv2 / EC2 shape: [{"Key": k, "Value": v}]."""
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def as_ecs_tags(tags: dict[str, str]) -> list[dict[str, str]]:
    """ECS shape: [{"key": k, "value": v}]."""
    return [{"key": key, "value": value} for key, value in tags.items()]


def from_key_value_list(tags: list[dict[str, str]] | None) -> dict[str, str]:
    """Read either tag shape back into a dict."""
    result: dict[str, str] = {}
    for tag in tags or []:
        key = tag.get("Key", tag.get("key"))
        value = tag.get("Value", tag.get("value", ""))
        if key is not None:
            result[key] = value
    return result


def owned_by(tags: dict[str, str], env: str) -> bool:
    return tags.get(ENVIRONMENT_TAG) == env


def require_owned(kind: str, name: str, tags: dict[str, str], env: str) -> None:
    """A resource with our name but without our environment tag is someone else's: never adopt
    it, never delete it; say so clearly."""
    if not owned_by(tags, env):
        from fargate_env.errors import ResourceConflict

        owner = tags.get(ENVIRONMENT_TAG)
        whose = f"environment {owner!r}" if owner else "something outside fargate-env"
        raise ResourceConflict(
            f"{kind} {name!r} already exists and belongs to {whose} (it lacks the tag "
            f"{ENVIRONMENT_TAG}={env}); fargate-env will neither adopt nor delete it. Remove or "
            "rename it, or choose another environment name."
        )
