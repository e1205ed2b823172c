"""The environment registry: one DynamoDB item per environment name.

Status changes are conditional writes, so an item is always in one of the five states and moves
only forward within an environment's life:

    (none | FAILED | DELETED) -> CREATING -> READY | FAILED -> DELETING -> DELETED
                                             READY -> UPDATING -> READY

The condition also names the execution that owns the transition, which is what makes "one
execution per environment" hold when two starts race: exactly one claim succeeds. Two moves
back are allowed, each only to the owner: a provisioning that fails right after recording READY
corrects its own record to FAILED, and a CREATING claim whose execution has ended (stopped, timed
out) can be taken over instead of blocking the name forever.

Request order (ordering.py): the item also keeps `teardown_requested_at`, the latest teardown
request's time (it only moves forward), and `create_requested_at`, the time of the create that
claimed the name. Both are read inside the claims' conditions, so a create never claims over a
teardown requested at or after it, and a teardown never claims over a create requested after it,
whichever execution reaches the registry first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final, cast

from fargate_env import clock, settings
from fargate_env.aws import client
from fargate_env.errors import (
    EnvironmentBusy,
    EnvironmentNotFound,
    TransientAwsError,
    error_code,
    or_none_on,
)
from fargate_env.payloads import NormalisedSpec, RegistryItem

TABLE_ENV: Final = "REGISTRY_TABLE_NAME"
CREATING, READY, FAILED, DELETING, DELETED = "CREATING", "READY", "FAILED", "DELETING", "DELETED"
#: A READY environment one update execution holds (update.py): it still serves; it ends READY.
UPDATING: Final = "UPDATING"
STATUSES: Final = (CREATING, READY, UPDATING, FAILED, DELETING, DELETED)
#: The statuses an execution holds an item in (its ARN is the item's `holder`).
HELD: Final = (CREATING, UPDATING, DELETING)


def _table() -> str:
    return settings.require(TABLE_ENV)


def table() -> str:
    """The registry table (gateway_registry.py keeps the gateways' items in it too)."""
    return _table()


def _now() -> str:
    return datetime.fromtimestamp(clock.now(), tz=UTC).isoformat(timespec="seconds")


def _serialize(value: Any) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    # Large nested documents (spec, resources) are stored as JSON strings: compact and exact.
    return dict(TypeSerializer().serialize(value))


def _deserialize(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    plain = {key: deserializer.deserialize(value) for key, value in item.items()}
    for key in ("spec", "resources", "failure", "summary", "revisions", "update_failure"):
        if isinstance(plain.get(key), str):
            plain[key] = json.loads(plain[key])
    return {k: (int(v) if isinstance(v, Decimal) else v) for k, v in plain.items()}


def get(name: str) -> RegistryItem | None:
    item = (
        client("dynamodb")
        .get_item(TableName=_table(), Key={"name": {"S": name}}, ConsistentRead=True)
        .get("Item")
    )
    return cast(RegistryItem, _deserialize(item)) if item else None


def all_items() -> list[RegistryItem]:
    """Every environment's item (a scan: for tools listing environments, not for the flows)."""
    items: list[dict[str, Any]] = []
    for page in client("dynamodb").get_paginator("scan").paginate(TableName=_table()):
        items.extend(_deserialize(item) for item in page["Items"])
    # Other kinds of item (gateways) carry a `kind`; an environment's item has none.
    return [cast(RegistryItem, item) for item in items if "kind" not in item]


def _update(
    name: str,
    assignments: dict[str, Any],
    condition: str,
    values: dict[str, Any],
    defaults: dict[str, Any] | None = None,
) -> bool:
    """Apply `assignments` (and `defaults`, to attributes the item does not have yet) when
    `condition` holds; False when it does not."""
    # DynamoDB refuses names an expression does not use.
    names = {"#status": "status"} if "#status" in condition else {}
    expression_values = {f":{key}": _serialize(value) for key, value in values.items()}
    sets = []
    for index, (attribute, value) in enumerate([*assignments.items(), *(defaults or {}).items()]):
        names[f"#a{index}"] = attribute
        stored = json.dumps(value) if isinstance(value, dict | list) else value
        expression_values[f":v{index}"] = _serialize(stored)
        written = (
            f":v{index}" if index < len(assignments) else f"if_not_exists(#a{index}, :v{index})"
        )
        sets.append(f"#a{index} = {written}")
    try:
        client("dynamodb").update_item(
            TableName=_table(),
            Key={"name": {"S": name}},
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=expression_values,
        )
    except Exception as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def holder(item: RegistryItem) -> str | None:
    """The ARN of the execution holding the item in its status (None: no execution holds it)."""
    status = item.get("status")
    if status == CREATING:
        return item.get("provision_execution")
    if status == UPDATING:
        return item.get("update_execution")
    if status == DELETING:
        return item.get("teardown_execution")
    return None


def execution_status(execution_arn: str | None) -> str:
    """RUNNING, or how the execution ended; UNKNOWN when Step Functions has no such execution
    (then nothing runs for the claim either)."""
    if not execution_arn:
        return "UNKNOWN"
    described = or_none_on(
        ("ExecutionDoesNotExist", "InvalidArn"),
        lambda: client("stepfunctions").describe_execution(executionArn=execution_arn),
    )
    return "UNKNOWN" if described is None else str(described["status"])


def execution_running(execution_arn: str | None) -> bool:
    """Whether a Step Functions execution still runs (an unknown one does not)."""
    return execution_status(execution_arn) == "RUNNING"


#: Outcomes of a claim, as the state machines read them.
CLAIMED, WAITING, SUPERSEDED = "claimed", "waiting", "superseded"
#: A claim that kept losing races to other writes gives up (the step's Retry tries again).
CLAIM_ATTEMPTS: Final = 3
#: Conditions naming the other kind of request, by the time of this one (:requested).
NO_LATER_TEARDOWN: Final = (
    "(attribute_not_exists(teardown_requested_at) OR teardown_requested_at < :requested)"
)
NO_LATER_CREATE: Final = (
    "(attribute_not_exists(create_requested_at) OR create_requested_at <= :requested)"
)
NO_LATER_UPDATE: Final = (
    "(attribute_not_exists(update_requested_at) OR update_requested_at < :requested)"
)


def _claim_result(outcome: str, status: str | None, message: str = "") -> dict[str, Any]:
    return {"outcome": outcome, "status": status, "message": message}


def _superseded(
    name: str, kind: str, later: str, later_at: str, requested_at: str
) -> dict[str, Any]:
    message = (
        f"superseded: {'an' if later[0] in 'aeiou' else 'a'} {later} of {name!r} was requested at "
        f"{later_at}, after this {kind} "
        f"(requested at {requested_at}); nothing was changed"
    )
    return _claim_result(SUPERSEDED, None, message)


def _claim(
    name: str,
    write: tuple[dict[str, Any], str, dict[str, Any]],
    claimed: Callable[[], dict[str, Any]],
    refused: Callable[[RegistryItem], dict[str, Any] | None],
) -> dict[str, Any]:
    """The conditional `write` (assignments, condition, values) up to CLAIM_ATTEMPTS times:
    `claimed()` once it is accepted; after each refusal `refused` reads the item as it is now and
    answers (superseded, waiting, a stale claim taken over), raises (busy, not found), or returns
    None to try again (the item changed under us, or `values` now names a stale owner)."""
    assignments, condition, values = write
    for _ in range(CLAIM_ATTEMPTS):
        if _update(name, assignments, condition, values):
            return claimed()
        answer = refused(get(name) or {})
        if answer is not None:
            return answer
    raise TransientAwsError(f"registry: {name!r} kept changing while it was being claimed")


def claim_for_provisioning(
    name: str, spec: NormalisedSpec, execution_arn: str, requested_at: str
) -> dict[str, Any]:
    """CREATING, owned by `execution` (outcome "claimed"), unless a teardown requested at or
    after `requested_at` is recorded ("superseded": nothing changes), or an earlier teardown is
    still running ("waiting": the machine comes back). EnvironmentBusy when another execution
    holds the name."""
    now = _now()
    assignments = {
        "status": CREATING,
        "spec": spec,
        "provision_execution": execution_arn,
        "create_requested_at": requested_at,
        "updated_at": now,
        "created_at": now,
    }
    values = {
        "failed": FAILED,
        "deleted": DELETED,
        "creating": CREATING,
        "execution": execution_arn,
        "requested": requested_at,
    }
    # Its own claim again (a retried step) holds whatever was requested since.
    condition = (
        "(#status = :creating AND provision_execution = :execution) OR "
        f"({NO_LATER_TEARDOWN} AND (attribute_not_exists(#status) OR #status IN (:failed, "
        ":deleted)))"
    )

    def refused(current: RegistryItem) -> dict[str, Any] | None:
        later = current.get("teardown_requested_at")
        if later is not None and later >= requested_at:
            return _superseded(name, "create", "teardown", later, requested_at)
        status = current.get("status")
        if status == DELETING and execution_running(current.get("teardown_execution")):
            return _claim_result(
                WAITING,
                DELETING,
                f"waiting for the teardown of {name!r} requested at {later} to end",
            )
        if status == CREATING and not execution_running(current.get("provision_execution")):
            stale = str(current.get("provision_execution") or "")
            stale_condition = (
                f"#status = :creating AND provision_execution = :stale AND {NO_LATER_TEARDOWN}"
            )
            if _update(name, assignments, stale_condition, {**values, "stale": stale}):
                return _claim_result(CLAIMED, CREATING)
            return None
        if status in (CREATING, READY, DELETING):
            raise _busy(name, current)
        return None

    return _claim(
        name, (assignments, condition, values), lambda: _claim_result(CLAIMED, CREATING), refused
    )


#: Why a create cannot claim the name, by its status.
CREATE_HINTS: Final = {
    CREATING: "it is being created",
    READY: "it exists; tear it down first or choose another name",
    DELETING: "a teardown of it stopped part-way; run the teardown again, then create it",
}
#: Why an update cannot claim the environment, by its status.
UPDATE_HINTS: Final = {
    CREATING: "it is being created; update it once it is READY",
    UPDATING: "another update of it is running; start this one when it has ended",
    DELETING: "it is being torn down",
    FAILED: "its provisioning failed; tear it down, then create it",
}


def _busy(
    name: str, current: RegistryItem, hints: dict[str, str] = CREATE_HINTS
) -> EnvironmentBusy:
    """EnvironmentBusy saying the status, why (`hints`) and which execution holds it."""
    status = current.get("status", "unknown")
    owner = holder(current) if status in HELD else current.get("teardown_execution")
    hint = hints.get(status, "")
    return EnvironmentBusy(
        f"environment {name!r} is {status}: {hint}"
        + (f" (execution {owner})" if owner else "")
        + ". Nothing was changed."
    )


def _ready_again(
    name: str, held_as: str, owner: str, execution_arn: str, outputs: dict[str, Any]
) -> bool:
    """READY, with `outputs`, if `execution_arn` still holds the item (status `held_as`, its ARN
    in the attribute `owner`); False when anything took it over since."""
    return _update(
        name,
        {"status": READY, "updated_at": _now(), **outputs},
        f"#status = :held AND {owner} = :execution",
        {"held": held_as, "execution": execution_arn},
    )


def mark_ready(name: str, execution_arn: str, outputs: dict[str, Any]) -> bool:
    return _ready_again(name, CREATING, "provision_execution", execution_arn, outputs)


def set_expiry(name: str, expires_at: str, previous: str) -> bool:
    """Move a READY environment's expiry, if nothing changed it since it was read."""
    return _update(
        name,
        {"expires_at": expires_at, "updated_at": _now()},
        "#status = :ready AND expires_at = :previous",
        {"ready": READY, "previous": previous},
    )


def mark_failed(name: str, execution_arn: str, outputs: dict[str, Any]) -> bool:
    """FAILED, when `execution` owns the item: CREATING, or READY when it failed right after
    recording READY (its own record, corrected)."""
    return _update(
        name,
        {"status": FAILED, "updated_at": _now(), **outputs},
        "#status IN (:creating, :ready) AND provision_execution = :execution",
        {"creating": CREATING, "ready": READY, "execution": execution_arn},
    )


def record_teardown_request(name: str, requested_at: str) -> RegistryItem | None:
    """Keep `requested_at` as the name's latest teardown request, unless a create requested
    after it holds the name (then the item as it is, for the caller to say so). A name never
    seen gets an item of its own, DELETED: nothing of it exists, and the time must be kept."""
    recorded = _update(
        name,
        {"teardown_requested_at": requested_at, "updated_at": _now()},
        f"{NO_LATER_CREATE} AND (attribute_not_exists(teardown_requested_at) "
        "OR teardown_requested_at < :requested)",
        {"requested": requested_at},
        defaults={"status": DELETED},
    )
    # Not recorded: a later create, or an equal or later teardown, is.
    return None if recorded else get(name) or {}


def claim_for_teardown(name: str, execution_arn: str, requested_at: str) -> dict[str, Any]:
    """DELETING, owned by `execution` (outcome "claimed"), unless a create requested after
    `requested_at` holds the name ("superseded": nothing changes). An environment still being
    created is not touched ("waiting": the caller comes back when its provisioning has ended; a
    creation whose execution has ended is taken over)."""
    later = (record_teardown_request(name, requested_at) or {}).get("create_requested_at")
    if later is not None and later > requested_at:
        return _superseded(name, "teardown", "create", later, requested_at)
    values = {
        "ready": READY,
        "failed": FAILED,
        "deleting": DELETING,
        "deleted": DELETED,
        "creating": CREATING,
        "updating": UPDATING,
        "requested": requested_at,
        "stale": "",
    }
    condition = (
        f"{NO_LATER_CREATE} AND (#status IN (:ready, :failed, :deleting, :deleted) "
        "OR (#status = :creating AND provision_execution = :stale) "
        "OR (#status = :updating AND update_execution = :stale))"
    )
    assignments = {"status": DELETING, "teardown_execution": execution_arn, "updated_at": _now()}
    for _ in range(CLAIM_ATTEMPTS):
        if _update(name, assignments, condition, values):
            claimed: RegistryItem = get(name) or {}
            return {
                **_claim_result(CLAIMED, DELETING),
                "resources": claimed.get("resources"),
                "spec": claimed.get("spec"),
            }
        current: RegistryItem = get(name) or {}
        later = current.get("create_requested_at")
        if later is not None and later > requested_at:
            return _superseded(name, "teardown", "create", later, requested_at)
        status = current.get("status")
        if status in (CREATING, UPDATING):
            owner = holder(current)
            if execution_running(owner):
                what = "creation" if status == CREATING else "update"
                message = f"waiting for the {what} of {name!r} (execution {owner}) to end"
                return {**_claim_result(WAITING, status, message), "resources": None}
            values["stale"] = str(owner or "")
    raise TransientAwsError(f"registry: {name!r} kept changing while it was being claimed")


def mark_deleted(name: str, execution_arn: str, summary: dict[str, Any]) -> bool:
    """DELETED, if this teardown still owns the item (a later teardown may have taken over)."""
    return _update(
        name,
        {
            "status": DELETED,
            "updated_at": _now(),
            "deleted_at": _now(),
            "summary": summary,
            "resources": {},
        },
        "#status = :deleting AND teardown_execution = :execution",
        {"deleting": DELETING, "execution": execution_arn},
    )


def claim_for_update(name: str, execution_arn: str, requested_at: str) -> dict[str, Any]:
    """UPDATING, owned by `execution` (outcome "claimed"), when the environment is READY and no
    teardown, create or other update was requested at or after `requested_at` ("superseded":
    nothing changes). EnvironmentNotFound when there is no such environment; EnvironmentBusy
    when another execution holds it. An update whose execution has ended is taken over."""
    assignments = {
        "status": UPDATING,
        "update_execution": execution_arn,
        "update_requested_at": requested_at,
        "updated_at": _now(),
    }
    values = {
        "ready": READY,
        "updating": UPDATING,
        "execution": execution_arn,
        "requested": requested_at,
        "stale": "",
    }
    in_order = f"{NO_LATER_TEARDOWN} AND {NO_LATER_CREATE} AND {NO_LATER_UPDATE}"
    condition = (
        "(#status = :updating AND update_execution = :execution) OR "
        f"({in_order} AND (#status = :ready OR (#status = :updating AND update_execution = "
        ":stale)))"
    )

    def refused(current: RegistryItem) -> dict[str, Any] | None:
        for kind, later in (
            ("teardown", current.get("teardown_requested_at")),
            ("create", current.get("create_requested_at")),
            ("update", current.get("update_requested_at")),
        ):
            if later is not None and (
                later >= requested_at if kind != "create" else later > requested_at
            ):
                return _superseded(name, "update", kind, later, requested_at)
        status = current.get("status")
        if status is None or status == DELETED:
            raise EnvironmentNotFound(
                f"no environment named {name!r}: create it first (an update changes a READY "
                "environment). Nothing was changed."
            )
        if status == UPDATING and not execution_running(current.get("update_execution")):
            # The next attempt takes over the ended update's claim.
            values["stale"] = str(current.get("update_execution") or "")
            return None
        raise _busy(name, current, UPDATE_HINTS)

    return _claim(
        name,
        (assignments, condition, values),
        lambda: {**_claim_result(CLAIMED, UPDATING), "item": get(name)},
        refused,
    )


def restore_stale_update(name: str, stale_execution: str, failure: dict[str, Any]) -> bool:
    """READY again, with `failure` recorded, when the update `stale_execution` (ended, as the
    caller saw) still holds the item; False when anything took it over since."""
    return _update(
        name,
        {"status": READY, "updated_at": _now(), "update_failure": failure},
        "#status = :updating AND update_execution = :stale",
        {"updating": UPDATING, "stale": stale_execution},
    )


def mark_updated(name: str, execution_arn: str, outputs: dict[str, Any]) -> bool:
    """READY again, with what the update changed, if this update still holds the item."""
    return _ready_again(name, UPDATING, "update_execution", execution_arn, outputs)
