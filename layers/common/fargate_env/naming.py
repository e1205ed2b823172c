"""Names and tags of every resource an environment owns.

Every resource is named from the environment name and tagged with it and with the deployment
(the stack) that manages it. Name + tags make each create step idempotent and each resource
findable when the recorded ids are lost; the fixed `fenv-` prefix lets IAM policies scope the
application to its own resources by ARN, and the deployment tag lets them scope each deployment
to its own: two stacks in one account never adopt or delete each other's resources.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

from fargate_env import settings

PREFIX: Final = "fenv"
ENVIRONMENT_TAG: Final = "fargate-env:environment"
#: Its value is the deployment (stack name) that manages the resource.
MANAGED_BY_TAG: Final = "fargate-env:managed-by"
#: Its value is the gateway (a shared load balancer) the resource belongs to: a kind of owner of
#: its own, so that no environment's lookup ever finds, adopts or deletes a gateway's resource.
GATEWAY_TAG: Final = "fargate-env:gateway"
#: The deployment when none is configured: the default stack name.
DEFAULT_DEPLOYMENT: Final = "fargate-env"
DEPLOYMENT_ENV: Final = "DEPLOYMENT_NAME"
RESERVED_TAG_PREFIX: Final = "fargate-env:"
LOG_GROUP_ROOT: Final = "/fargate-env"

# ELBv2 load balancer and target group names are at most 32 characters:
# "fenv-" (5) + environment (<= 20) + "-" (1) + load balancer id (<= 6) = 32.
MAX_ELBV2_NAME: Final = 32
MAX_ENVIRONMENT_NAME: Final = 20
MAX_LOAD_BALANCER_ID: Final = 6
# AWS allows 50 tags per resource on ECS, ELBv2, EC2 and CloudWatch Logs (tags starting with
# "aws:" excepted). Ours: the environment and the deployment on every resource, and the request
# fingerprint on task definitions: the most one resource carries is three.
MAX_TAGS_PER_RESOURCE: Final = 50
SYSTEM_TAG_COUNT: Final = 3
MAX_USER_TAGS: Final = MAX_TAGS_PER_RESOURCE - SYSTEM_TAG_COUNT

# \Z, not $: a trailing newline must not pass.
ENVIRONMENT_NAME_PATTERN: Final = re.compile(r"^[a-z](?:-?[a-z0-9])+\Z")


def ecs_name(env: str) -> str:
    """`fenv-<env>`: the name of the environment's cluster, its service and its task family
    (ECS keeps the names of each kind apart, so the three share one)."""
    return f"{PREFIX}-{env}"


cluster_name = service_name = task_family = ecs_name


def elbv2_name(env: str, lb_id: str) -> str:
    """`fenv-<env>-<lb_id>`: the name of one of the environment's load balancers and of its
    target group (ELBv2 keeps the two kinds apart), at most MAX_ELBV2_NAME characters."""
    return f"{PREFIX}-{env}-{lb_id}"


load_balancer_name = target_group_name = elbv2_name


def log_group_name(env: str) -> str:
    return f"{LOG_GROUP_ROOT}/{env}"


def load_balancer_security_group_name(env: str, lb_id: str) -> str:
    return f"{PREFIX}-{env}-{lb_id}-lb"


def tasks_security_group_name(env: str) -> str:
    return f"{PREFIX}-{env}-tasks"


def schedule_name(env: str) -> str:
    return f"{PREFIX}-{env}-expiry"


def gateway_name(gateway_id: str) -> str:
    """A gateway's load balancer and security group: `fenv-gw-<deployment hash>-<scheme>-<n>`.
    The hash keeps two deployments of one account apart (ELBv2 names are per account and
    region); the last segment starts with a digit, which no load balancer id of an environment
    can (`fenv-<env>-<id>`, the id starting with a letter), so the two never collide."""
    digest = hashlib.sha256(deployment().encode()).hexdigest()[:6]
    scheme, number = gateway_id[0], gateway_id[1:]
    return f"{PREFIX}-gw-{digest}-{scheme}-{number}"


def gateway_tags(gateway_id: str) -> dict[str, str]:
    """The tags of every resource of a gateway: no environment tag, ours alone."""
    return {GATEWAY_TAG: gateway_id, MANAGED_BY_TAG: deployment()}


def gateway_owned_by(tags: dict[str, str], gateway_id: str) -> bool:
    return tags.get(GATEWAY_TAG) == gateway_id and tags.get(MANAGED_BY_TAG) == deployment()


def deployment() -> str:
    """The deployment (its stack name) this code runs for."""
    return settings.get(DEPLOYMENT_ENV, "").strip() or DEFAULT_DEPLOYMENT


def environment_tags(env: str, user_tags: dict[str, str] | None = None) -> dict[str, str]:
    """The tags every resource of `env` carries: the user's, then ours (ours win)."""
    tags = dict(user_tags or {})
    tags[ENVIRONMENT_TAG] = env
    tags[MANAGED_BY_TAG] = deployment()
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
    """Whether a resource is environment `env`'s, managed by this deployment."""
    return tags.get(ENVIRONMENT_TAG) == env and tags.get(MANAGED_BY_TAG) == deployment()


def require_gateway_owned(kind: str, name: str, tags: dict[str, str], gateway_id: str) -> None:
    """As require_owned, for a resource of a gateway."""
    if not gateway_owned_by(tags, gateway_id):
        from fargate_env.errors import ResourceConflict

        raise ResourceConflict(
            f"{kind} {name!r} already exists without the tags {GATEWAY_TAG}={gateway_id}, "
            f"{MANAGED_BY_TAG}={deployment()}: it is not this deployment's gateway; fargate-env "
            "will neither adopt nor delete it. Remove or rename it."
        )


def require_owned(kind: str, name: str, tags: dict[str, str], env: str) -> None:
    """A resource with our name but without our tags is someone else's (another environment,
    another deployment, or nothing of fargate-env's): never adopt it, never delete it; say so."""
    if not owned_by(tags, env):
        from fargate_env.errors import ResourceConflict

        owner, manager = tags.get(ENVIRONMENT_TAG), tags.get(MANAGED_BY_TAG)
        if owner == env and manager:
            whose = f"environment {env!r} of the deployment {manager!r} (another stack)"
        elif owner:
            whose = f"environment {owner!r}"
        else:
            whose = "something outside fargate-env"
        raise ResourceConflict(
            f"{kind} {name!r} already exists and belongs to {whose} (it lacks the tags "
            f"{ENVIRONMENT_TAG}={env}, {MANAGED_BY_TAG}={deployment()}); fargate-env will "
            "neither adopt nor delete it. Remove or rename it, or choose another environment "
            "name."
        )
