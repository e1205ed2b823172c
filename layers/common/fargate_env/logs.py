"""The CloudWatch Logs group the tasks write to (awslogs driver)."""

from __future__ import annotations

from fargate_env import naming
from fargate_env.aws import client
from fargate_env.errors import delete_found, error_code, or_none_on
from fargate_env.payloads import Deleted, LogGroupRecord, NormalisedSpec


def _tags(name: str) -> dict[str, str] | None:
    """The group's tags, or None when it does not exist."""
    found = or_none_on(
        ("ResourceNotFoundException",),
        lambda: client("logs").list_tags_log_group(logGroupName=name)["tags"],
    )
    return None if found is None else dict(found)


def ensure(spec: NormalisedSpec) -> LogGroupRecord:
    env = spec["name"]
    name = naming.log_group_name(env)
    logs = client("logs")
    try:
        logs.create_log_group(logGroupName=name, tags=naming.environment_tags(env, spec["tags"]))
    except Exception as exc:
        if error_code(exc) != "ResourceAlreadyExistsException":
            raise
        naming.require_owned("log group", name, _tags(name) or {}, env)
    logs.put_retention_policy(
        logGroupName=name, retentionInDays=int(spec["container"]["log_retention_days"])
    )
    return {"name": name}


def find(env: str) -> str | None:
    name = naming.log_group_name(env)
    tags = _tags(name)
    return name if tags is not None and naming.owned_by(tags, env) else None


def delete(env: str) -> Deleted:
    return delete_found(
        find(env),
        "ResourceNotFoundException",
        lambda name: client("logs").delete_log_group(logGroupName=name),
    )
