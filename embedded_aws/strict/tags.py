"""Tags, as each service checks them: at most 50 user tags per resource, key and value lengths,
the services' character set, and the reserved `aws:` prefix (rules.py, tags.*).

Tags AWS itself adds (CloudFormation's `aws:cloudformation:*`) do not count and are not refused:
only a request to the service's own API may not set an `aws:` key.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from embedded_aws.patches import Patches
from embedded_aws.strict import rules
from embedded_aws.strict.guards import guard, refuse, requested_service, validation_message

RESERVED_PREFIX = "aws:"
_PUNCTUATION = frozenset("_.:/=+-@")


@dataclass(frozen=True)
class TagPolicy:
    service: str  # the API's service name (what moto's responses call it)
    restricted_characters: bool
    too_many_code: str
    too_many_message: str
    invalid_code: str


ECS = TagPolicy(
    "ecs",
    True,
    "InvalidParameterException",
    f"Too many tags: a resource can have at most {rules.TAGS_PER_RESOURCE} tags.",
    "InvalidParameterException",
)
ELBV2 = TagPolicy(
    "elbv2",
    True,
    "TooManyTags",
    "The quota for the number of tags that can be assigned to a load balancer has been reached",
    "ValidationError",
)
EC2 = TagPolicy(
    "ec2",
    False,
    "TagLimitExceeded",
    "The maximum number of Tags for a resource has been reached.",
    "InvalidParameterValue",
)
LOGS = TagPolicy(
    "logs",
    True,
    "TooManyTagsException",
    f"A resource can have no more than {rules.TAGS_PER_RESOURCE} tags.",
    "InvalidParameterException",
)
SCHEDULER = TagPolicy(
    "scheduler",
    False,
    "ValidationException",
    f"A resource can have no more than {rules.TAGS_PER_RESOURCE} tags.",
    "ValidationException",
)


def as_dict(tags: Any) -> dict[str, str]:
    """Either tag shape ({k: v}, [{"Key"/"key": k, "Value"/"value": v}]) as a dict."""
    if not tags:
        return {}
    if isinstance(tags, Mapping):
        return {str(key): "" if value is None else str(value) for key, value in tags.items()}
    result: dict[str, str] = {}
    for tag in tags:
        key = tag.get("Key", tag.get("key"))
        if key is not None:
            result[str(key)] = str(tag.get("Value", tag.get("value", "")) or "")
    return result


def _allowed(character: str) -> bool:
    """botocore's models: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]."""
    return unicodedata.category(character)[0] in "LZN" or character in _PUNCTUATION


def _reserved(key: str) -> bool:
    return key.casefold().startswith(RESERVED_PREFIX)


_PATTERN = "Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$"


def _problem(policy: TagPolicy, key: str, value: str) -> tuple[str, str, str] | None:
    """(the bad text, which member, the constraint it breaks) or None."""
    if not 1 <= len(key) <= rules.TAG_KEY_LENGTH:
        return key, "tag key", f"Member must have length between 1 and {rules.TAG_KEY_LENGTH}"
    if len(value) > rules.TAG_VALUE_LENGTH:
        limit = rules.TAG_VALUE_LENGTH
        return value, "tag value", f"Member must have length less than or equal to {limit}"
    if policy.restricted_characters:
        if not all(map(_allowed, key)):
            return key, "tag key", _PATTERN
        if not all(map(_allowed, value)):
            return value, "tag value", _PATTERN
    return None


def check(
    policy: TagPolicy, new: Mapping[str, str], existing: Mapping[str, str] | None = None
) -> None:
    """Refuse `new` (added to `existing`) the way `policy.service` does."""
    for key, value in new.items():
        problem = _problem(policy, key, value)
        if problem is not None:
            refuse(policy.invalid_code, validation_message(*problem))
        if _reserved(key) and requested_service() == policy.service:
            refuse(
                policy.invalid_code,
                f"Value ( {key} ) for parameter key is invalid. Tag keys starting with "
                f"'{RESERVED_PREFIX}' are reserved for internal use",
            )
    keys = {key for key in (*(existing or {}), *new) if not _reserved(key)}
    if len(keys) > rules.TAGS_PER_RESOURCE:
        refuse(policy.too_many_code, policy.too_many_message + f" (this request makes {len(keys)})")


def _existing(current: Callable[[Any, str], Any], backend: Any, resource: str) -> dict[str, str]:
    """The resource's current tags (none when it cannot be read: the call itself says why)."""
    try:
        return as_dict(current(backend, resource))
    except Exception:
        return {}


def _on_create(policy: TagPolicy, parameter: str = "tags") -> Callable[[Any, dict[str, Any]], None]:
    def check_create(backend: Any, arguments: dict[str, Any]) -> None:
        check(policy, as_dict(arguments.get(parameter)))

    return check_create


def _on_tag(
    policy: TagPolicy,
    resources: Callable[[dict[str, Any]], Iterable[str]],
    current: Callable[[Any, str], Any],
) -> Callable[[Any, dict[str, Any]], None]:
    def check_tagging(backend: Any, arguments: dict[str, Any]) -> None:
        for resource in resources(arguments):
            check(policy, as_dict(arguments["tags"]), _existing(current, backend, resource))

    return check_tagging


def install(patches: Patches) -> None:
    from moto.ec2.models import EC2Backend
    from moto.ecs.models import EC2ContainerServiceBackend
    from moto.elbv2.models import ELBv2Backend
    from moto.logs.models import LogsBackend
    from moto.scheduler.models import EventBridgeSchedulerBackend

    for name in ("create_cluster", "register_task_definition", "create_service", "run_task"):
        guard(patches, EC2ContainerServiceBackend, name, _on_create(ECS))
    guard(
        patches,
        EC2ContainerServiceBackend,
        "tag_resource",
        _on_tag(ECS, lambda a: [a["arn"]], lambda b, arn: b.list_tags_for_resource(arn)),
    )

    for name in ("create_load_balancer", "create_target_group", "create_listener", "create_rule"):
        guard(patches, ELBv2Backend, name, _on_create(ELBV2))
    patches.set(ELBv2Backend, "add_tags", _elbv2_add_tags)

    guard(patches, EC2Backend, "create_security_group", _on_create(EC2))
    guard(
        patches,
        EC2Backend,
        "create_tags",
        _on_tag(EC2, lambda a: a["resource_ids"], lambda b, rid: b.tags.get(rid, {})),
    )

    guard(patches, LogsBackend, "create_log_group", _on_create(LOGS))
    guard(
        patches,
        LogsBackend,
        "tag_log_group",
        _on_tag(LOGS, lambda a: [a["log_group_name"]], lambda b, n: b.list_tags_log_group(n)),
    )
    guard(
        patches,
        LogsBackend,
        "tag_resource",
        _on_tag(LOGS, lambda a: [a["arn"]], lambda b, arn: b.list_tags_for_resource(arn)),
    )

    guard(patches, EventBridgeSchedulerBackend, "create_schedule_group", _on_create(SCHEDULER))
    guard(
        patches,
        EventBridgeSchedulerBackend,
        "tag_resource",
        _on_tag(
            SCHEDULER,
            lambda a: [a["resource_arn"]],
            lambda b, arn: b.list_tags_for_resource(arn)["Tags"],
        ),
    )


def _elbv2_add_tags(backend: Any, resource_arns: list[str], tags: list[dict[str, str]]) -> None:
    """AddTags with AWS's 50 (moto stops at 10)."""
    for arn in resource_arns:
        backend._get_resource_by_arn(arn)
        check(ELBV2, as_dict(tags), backend.tagging_service.get_tag_dict_for_resource(arn))
    for arn in resource_arns:
        backend.tagging_service.tag_resource(arn, tags)
