"""The environment registry: one DynamoDB item per environment name.

Status changes are conditional writes, so an item is always in one of the five states and moves
only forward within an environment's life:

    (none | FAILED | DELETED) -> CREATING -> READY | FAILED -> DELETING -> DELETED

The condition also names the execution that owns the transition, which is what makes "one
execution per environment" hold when two starts race: exactly one claim succeeds. Two moves
back are allowed, each only to the owner: a provisioning that fails right after recording READY
corrects its own record to FAILED, and a CREATING claim whose execution has ended (stopped, timed
out) can be taken over instead of blocking the name forever.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from fargate_env import clock, settings
from fargate_env.aws import client
from fargate_env.errors import EnvironmentBusy, error_code

TABLE_ENV: Final = "REGISTRY_TABLE_NAME"
CREATING, READY, FAILED, DELETING, DELETED = "CREATING", "READY", "FAILED", "DELETING", "DELETED"
STATUSES: Final = (CREATING, READY, FAILED, DELETING, DELETED)


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
    for key in ("spec", "resources", "failure", "summary"):
        if isinstance(plain.get(key), str):
            plain[key] = json.loads(plain[key])
    return {k: (int(v) if isinstance(v, Decimal) else v) for k, v in plain.items()}


def get(name: str) -> dict[str, Any] | None:
    item = (
        client("dynamodb")
        .get_item(TableName=_table(), Key={"name": {"S": name}}, ConsistentRead=True)
        .get("Item")
    )
    return _deserialize(item) if item else None


def all_items() -> list[dict[str, Any]]:
    """Every environment's item (a scan: for tools listing environments, not for the flows)."""
    items: list[dict[str, Any]] = []
    for page in client("dynamodb").get_paginator("scan").paginate(TableName=_table()):
        items.extend(_deserialize(item) for item in page["Items"])
    # Other kinds of item (gateways) carry a `kind`; an environment's item has none.
    return [item for item in items if "kind" not in item]


def _update(name: str, assignments: dict[str, Any], condition: str, values: dict[str, Any]) -> bool:
    """Apply `assignments` when `condition` holds; False when it does not."""
    names = {"#status": "status"}
    expression_values = {f":{key}": _serialize(value) for key, value in values.items()}
    sets = []
    for index, (attribute, value) in enumerate(assignments.items()):
        names[f"#a{index}"] = attribute
        stored = json.dumps(value) if isinstance(value, dict | list) else value
        expression_values[f":v{index}"] = _serialize(stored)
        sets.append(f"#a{index} = :v{index}")
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


def execution_running(execution_arn: str | None) -> bool:
    """Whether a Step Functions execution still runs (an unknown one does not)."""
    if not execution_arn:
        return False
    try:
        status = client("stepfunctions").describe_execution(executionArn=execution_arn)["status"]
    except Exception as exc:
        if error_code(exc) in ("ExecutionDoesNotExist", "InvalidArn"):
            return False
        raise
    return bool(status == "RUNNING")


def _stale_creator(name: str) -> str | None:
    """The owner of a CREATING item whose execution has ended without recording it (stopped,
    timed out, or its last steps failed): such a claim may be taken over."""
    current = get(name)
    if current is None or current.get("status") != CREATING:
        return None
    owner = current.get("provision_execution")
    return None if execution_running(owner) else str(owner or "")


def claim_for_provisioning(name: str, spec: dict[str, Any], execution: str) -> dict[str, Any]:
    """CREATING, owned by `execution`; EnvironmentBusy when another execution holds the name."""
    now = _now()
    assignments = {
        "status": CREATING,
        "spec": spec,
        "provision_execution": execution,
        "updated_at": now,
        "created_at": now,
    }
    claimed = _update(
        name,
        assignments,
        "attribute_not_exists(#status) OR #status IN (:failed, :deleted) "
        "OR (#status = :creating AND provision_execution = :execution)",
        {"failed": FAILED, "deleted": DELETED, "creating": CREATING, "execution": execution},
    )
    if not claimed:
        stale = _stale_creator(name)
        if stale is not None:
            claimed = _update(
                name,
                assignments,
                "#status = :creating AND provision_execution = :stale",
                {"creating": CREATING, "stale": stale},
            )
    if not claimed:
        current = get(name) or {}
        status = current.get("status", "unknown")
        owner = (
            current.get("provision_execution")
            if status == CREATING
            else current.get("teardown_execution")
        )
        hint = {
            CREATING: "it is being created",
            READY: "it exists; tear it down first or choose another name",
            DELETING: "it is being torn down; start again when that ends",
        }.get(status, "")
        raise EnvironmentBusy(
            f"environment {name!r} is {status}: {hint}"
            + (f" (execution {owner})" if owner else "")
            + ". Nothing was changed."
        )
    return {"status": CREATING, "name": name}


def mark_ready(name: str, execution: str, outputs: dict[str, Any]) -> bool:
    return _update(
        name,
        {"status": READY, "updated_at": _now(), **outputs},
        "#status = :creating AND provision_execution = :execution",
        {"creating": CREATING, "execution": execution},
    )


def set_expiry(name: str, expires_at: str, previous: str) -> bool:
    """Move a READY environment's expiry, if nothing changed it since it was read."""
    return _update(
        name,
        {"expires_at": expires_at, "updated_at": _now()},
        "#status = :ready AND expires_at = :previous",
        {"ready": READY, "previous": previous},
    )


def mark_failed(name: str, execution: str, outputs: dict[str, Any]) -> bool:
    """FAILED, when `execution` owns the item: CREATING, or READY when it failed right after
    recording READY (its own record, corrected)."""
    return _update(
        name,
        {"status": FAILED, "updated_at": _now(), **outputs},
        "#status IN (:creating, :ready) AND provision_execution = :execution",
        {"creating": CREATING, "ready": READY, "execution": execution},
    )


def claim_for_teardown(name: str, execution: str) -> dict[str, Any]:
    """DELETING, owned by `execution`. An environment still being created is not touched: the
    caller waits for its provisioning to end (a creation whose execution has ended is taken
    over). An unknown name has no item and gets none."""
    current = get(name)
    if current is None:
        return {"status": None, "resources": None, "spec": None}
    stale_owner = ""
    if current["status"] == CREATING:
        if execution_running(current.get("provision_execution")):
            return {"status": CREATING, "resources": current.get("resources"), "spec": None}
        stale_owner = str(current.get("provision_execution") or "")
    claimed = _update(
        name,
        {"status": DELETING, "teardown_execution": execution, "updated_at": _now()},
        "#status IN (:ready, :failed, :deleting, :deleted) "
        "OR (#status = :creating AND provision_execution = :stale)",
        {
            "ready": READY,
            "failed": FAILED,
            "deleting": DELETING,
            "deleted": DELETED,
            "creating": CREATING,
            "stale": stale_owner,
        },
    )
    if not claimed:  # it became CREATING between the read and the write
        return {"status": CREATING, "resources": current.get("resources"), "spec": None}
    return {"status": DELETING, "resources": current.get("resources"), "spec": current.get("spec")}


def mark_deleted(name: str, execution: str, summary: dict[str, Any]) -> bool:
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
        {"deleting": DELETING, "execution": execution},
    )
