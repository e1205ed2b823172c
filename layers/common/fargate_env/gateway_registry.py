"""Gateways in the registry: one item per gateway beside the environments' items.

A gateway's item (key `gateway#<id>`, which no environment name can be) holds its status, its
AWS resources once made, and its members: slot -> environment. Every change is a conditional
write, so that any number of executions at once agree on who has which slot (a slot is a rule
priority or a listener port: two environments can never hold the same one), and no environment
is ever placed on a gateway that is being removed:

    CREATING -> READY -> DRAINING -> (item deleted)     members added only while CREATING or
                                                        READY; DRAINING only when it has none

DRAINING and adding a member are conditional writes on the same item: of an environment joining
an empty gateway and the gateways machine removing it, exactly one wins (the loser places the
environment elsewhere, or keeps the gateway).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from fargate_env import clock, registry
from fargate_env.aws import client
from fargate_env.errors import error_code

KIND: Final = "gateway"
KEY_PREFIX: Final = "gateway#"
CREATING, READY, DRAINING = "CREATING", "READY", "DRAINING"
#: Statuses an environment may be placed in (a CREATING gateway is being made: its members wait).
OPEN: Final = (CREATING, READY)
SCHEMES: Final = {"e": "internet-facing", "i": "internal"}


def gateway_id(scheme: str, number: int) -> str:
    """`e1`, `e2`... for internet-facing gateways, `i1`... for internal ones."""
    letter = next(key for key, value in SCHEMES.items() if value == scheme)
    return f"{letter}{number}"


def slot_key(slot: int) -> str:
    return f"s{slot:03d}"


def slot_of(key: str) -> int:
    return int(key[1:])


def _key(identifier: str) -> dict[str, Any]:
    return {"name": {"S": KEY_PREFIX + identifier}}


def now_iso() -> str:
    return datetime.fromtimestamp(clock.now(), tz=UTC).isoformat(timespec="seconds")


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    plain = {key: deserializer.deserialize(value) for key, value in item.items()}
    if isinstance(plain.get("resources"), str):
        plain["resources"] = json.loads(plain["resources"])
    plain.setdefault("members", {})
    plain.setdefault("blocked", {})
    return {k: (int(v) if isinstance(v, Decimal) else v) for k, v in plain.items()}


def _value(value: Any) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    stored = json.dumps(value) if isinstance(value, dict) and value else value
    return dict(TypeSerializer().serialize(stored))


def get(identifier: str) -> dict[str, Any] | None:
    item = (
        client("dynamodb")
        .get_item(TableName=registry.table(), Key=_key(identifier), ConsistentRead=True)
        .get("Item")
    )
    return _plain(item) if item else None


def all_gateways() -> list[dict[str, Any]]:
    """Every gateway of the deployment, by scheme then number (a consistent scan: the registry
    holds a few items per environment, and gateways are few)."""
    items: list[dict[str, Any]] = []
    for page in (
        client("dynamodb")
        .get_paginator("scan")
        .paginate(
            TableName=registry.table(),
            ConsistentRead=True,
            FilterExpression="kind = :kind",
            ExpressionAttributeValues={":kind": {"S": KIND}},
        )
    ):
        items.extend(_plain(item) for item in page["Items"])
    return sorted(items, key=lambda item: (item["scheme"], int(item["number"])))


def pool(scheme: str) -> list[dict[str, Any]]:
    return [gateway for gateway in all_gateways() if gateway["scheme"] == scheme]


def _write(
    identifier: str, update: str, condition: str, values: dict[str, Any], **names: str
) -> bool:
    """An UpdateItem when `condition` holds; False when it does not."""
    request: dict[str, Any] = {
        "TableName": registry.table(),
        "Key": _key(identifier),
        "UpdateExpression": update,
        "ConditionExpression": condition,
    }
    # DynamoDB refuses a name the expressions do not use.
    used = {"#status": "status", **names} if "#status" in update + condition else names
    if used:
        request["ExpressionAttributeNames"] = used
    if values:
        request["ExpressionAttributeValues"] = {f":{k}": _value(v) for k, v in values.items()}
    try:
        client("dynamodb").update_item(**request)
    except Exception as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def register(scheme: str, number: int) -> bool:
    """A new gateway, CREATING and empty; False when that number is taken (a concurrent
    execution registered it first: use that one)."""
    identifier = gateway_id(scheme, number)
    now = now_iso()
    item = {
        "name": KEY_PREFIX + identifier,
        "kind": KIND,
        "gateway_id": identifier,
        "scheme": scheme,
        "number": number,
        "status": CREATING,
        "members": {},
        "blocked": {},
        "created_at": now,
        "updated_at": now,
        "empty_since": now,
    }
    try:
        client("dynamodb").put_item(
            TableName=registry.table(),
            Item={key: _value(value) for key, value in item.items()},
            ConditionExpression="attribute_not_exists(#name)",
            ExpressionAttributeNames={"#name": "name"},
        )
    except Exception as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def add_member(identifier: str, slot: int, env: str) -> bool:
    """Slot `slot` for `env`, if nobody holds it and the gateway still takes members."""
    return _write(
        identifier,
        "SET members.#slot = :env, updated_at = :now REMOVE empty_since",
        "attribute_not_exists(members.#slot) AND attribute_not_exists(blocked.#slot) "
        "AND #status IN (:creating, :ready)",
        {"env": env, "now": now_iso(), "creating": CREATING, "ready": READY},
        **{"#slot": slot_key(slot)},
    )


def move_member(identifier: str, slot: int, to_slot: int, env: str, why: str) -> bool:
    """`env` leaves `slot` (something outside fargate-env holds its priority or port: it stays
    blocked, so no one else takes it) for the free `to_slot`, in one write."""
    return _write(
        identifier,
        "SET members.#to = :env, blocked.#from = :why, updated_at = :now REMOVE members.#from",
        "members.#from = :env AND attribute_not_exists(members.#to) "
        "AND attribute_not_exists(blocked.#to) AND #status IN (:creating, :ready)",
        {"env": env, "why": why, "now": now_iso(), "creating": CREATING, "ready": READY},
        **{"#from": slot_key(slot), "#to": slot_key(to_slot)},
    )


def remove_member(identifier: str, slot: int, env: str) -> bool:
    """`env` leaves `slot`; the gateway's idle time starts when its last member leaves."""
    removed = _write(
        identifier,
        "SET updated_at = :now REMOVE members.#slot",
        "members.#slot = :env",
        {"env": env, "now": now_iso()},
        **{"#slot": slot_key(slot)},
    )
    if removed:
        _write(
            identifier,
            "SET empty_since = :now",
            "size(members) = :zero AND attribute_not_exists(empty_since)",
            {"now": now_iso(), "zero": 0},
        )
    return removed


def mark_ready(identifier: str, resources: dict[str, Any]) -> bool:
    """Its AWS resources exist: READY (again, idempotently, with the same resources)."""
    return _write(
        identifier,
        "SET #status = :ready, resources = :resources, updated_at = :now",
        "#status IN (:creating, :ready)",
        {"ready": READY, "creating": CREATING, "resources": resources, "now": now_iso()},
    )


def mark_draining(identifier: str, idle_before: str | None) -> bool:
    """To be removed: only when it has no member (and, with `idle_before`, has had none since
    before then). From then on no environment is placed on it."""
    condition = "#status IN (:creating, :ready, :draining) AND size(members) = :zero"
    values: dict[str, Any] = {
        "draining": DRAINING,
        "creating": CREATING,
        "ready": READY,
        "zero": 0,
        "now": now_iso(),
    }
    if idle_before is not None:
        condition += " AND empty_since <= :cutoff"
        values["cutoff"] = idle_before
    return _write(identifier, "SET #status = :draining, updated_at = :now", condition, values)


def forget(identifier: str) -> bool:
    """The item of a removed gateway (every resource of it gone)."""
    try:
        client("dynamodb").delete_item(
            TableName=registry.table(),
            Key=_key(identifier),
            ConditionExpression="#status = :draining",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":draining": {"S": DRAINING}},
        )
    except Exception as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def placements(env: str) -> list[dict[str, Any]]:
    """Where `env` is placed: [{gateway_id, slot}] (one, unless a failure left more)."""
    return [
        {"gateway_id": gateway["gateway_id"], "slot": slot_of(key)}
        for gateway in all_gateways()
        for key, member in sorted(gateway["members"].items())
        if member == env
    ]
