"""EventBridge rules whose target is a state machine: moto raises NotImplementedError for them
(HTTP 500 on `aws events put-events`); here the emulator delivers them as EventBridge does.

For each matching rule and Step Functions target: the target's role must be assumable by
events.amazonaws.com and allow states:StartExecution on the state machine; the input is the
target's Input, InputPath or InputTransformer applied to the event (else the whole event); the
execution gets a generated name (a rule cannot name it). A delivery that fails (the role refuses,
the machine rejects the start) goes to the target's dead-letter queue with EventBridge's error
attributes, or is dropped without one.
Sources: EventBridge User Guide, "Transforming target input" (placeholders in a JSON template
are inserted as JSON values, strings quoted; inside a quoted string, as raw text) and "Using
dead-letter queues to process undelivered events" (the ERROR_CODE, ERROR_MESSAGE, RULE_ARN and
TARGET_ARN message attributes).
"""

from __future__ import annotations

import copy
import datetime
import json
import re
import uuid
from collections.abc import Callable
from typing import Any

from embedded_aws import iam_policy

_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.-]+)>")


def json_path(document: Any, path: str) -> Any:
    """The value at a simple JSONPath ($, $.a.b, $.a[0]); None when absent."""
    value = document
    for part in re.findall(r"[^.\[\]]+", path.removeprefix("$")):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return None
    return value


def _inside_string(text: str, position: int) -> bool:
    """Whether `position` of a JSON template lies inside a quoted string."""
    quoted, escaped = False, False
    for char in text[:position]:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
    return quoted


def transform(transformer: dict[str, Any], event: dict[str, Any]) -> Any:
    """An InputTransformer applied to `event`: the template with its placeholders filled."""
    template = str(transformer["InputTemplate"])
    values = {
        key: json_path(event, path) for key, path in transformer.get("InputPathsMap", {}).items()
    }
    values["aws.events.event.json"] = event

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            return match.group(0)
        value = values[key]
        if _inside_string(template, match.start()):
            raw = value if isinstance(value, str) else json.dumps(value)
            return json.dumps(raw)[1:-1]
        return json.dumps(value)

    text = _PLACEHOLDER.sub(fill, template)
    try:
        return json.loads(text)
    except ValueError:
        return text  # a plain-text template gives a string input


def target_input(target: dict[str, Any], event: dict[str, Any]) -> Any:
    """What the target receives for `event`."""
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputPath" in target:
        return json_path(event, target["InputPath"])
    if "InputTransformer" in target:
        return transform(target["InputTransformer"], event)
    return event


def role_refusal(account_id: str, role_arn: str | None, machine_arn: str) -> str | None:
    """Why the rule's role may not start `machine_arn` (None: it may): IAM's evaluation of its
    trust policy and of its inline and managed policies (iam_policy)."""
    from moto.iam.models import iam_backends

    if not role_arn:
        return "the target has no RoleArn: EventBridge needs a role to start a state machine"
    role = iam_policy.role(iam_backends[account_id]["aws"], role_arn)
    if role is None:
        return f"role {role_arn} does not exist"
    if not role.trusts_service("events.amazonaws.com"):
        return f"role {role_arn} does not trust events.amazonaws.com"
    if not role.allows("states:StartExecution", machine_arn):
        return f"role {role_arn} does not allow states:StartExecution on {machine_arn}"
    return None


def _dead_letter(
    rule: Any, target: dict[str, Any], event: dict[str, Any], code: str, message: str
) -> None:
    from moto.sqs.models import sqs_backends

    queue_arn = (target.get("DeadLetterConfig") or {}).get("Arn")
    if not queue_arn:
        return  # no dead-letter queue: EventBridge drops the event
    _, _, _, region, account, queue = queue_arn.split(":", 5)
    attributes = {
        "ERROR_CODE": code,
        "ERROR_MESSAGE": message,
        "RULE_ARN": rule.arn,
        "TARGET_ARN": target["Arn"],
    }
    sqs_backends[account][region].send_message(
        queue_name=queue,
        message_body=json.dumps(event),
        message_attributes={
            key: {"DataType": "String", "StringValue": value} for key, value in attributes.items()
        },
    )


def deliver(rule: Any, target: dict[str, Any], event: dict[str, Any]) -> str | None:
    """Start the target's state machine for `event`; its execution ARN (None: dead-lettered)."""
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    machine_arn = str(target["Arn"])
    refusal = role_refusal(rule.account_id, target.get("RoleArn"), machine_arn)
    if refusal is not None:
        _dead_letter(rule, target, event, "NO_PERMISSIONS", refusal)
        return None
    region = machine_arn.split(":")[3]
    backend = stepfunctions_parser_backends[rule.account_id][region]
    try:
        execution = backend.start_execution(
            machine_arn,
            name=str(uuid.uuid4()),
            execution_input=json.dumps(target_input(target, event)),
        )
    except Exception as exc:
        _dead_letter(rule, target, event, type(exc).__name__, str(exc))
        return None
    return str(execution.exec_arn)


def _as_delivered(event: dict[str, Any]) -> dict[str, Any]:
    """The event as targets see it: an ISO time, no moto bookkeeping."""
    delivered = copy.deepcopy(event)
    delivered.pop("ingestion-time", None)
    if isinstance(delivered.get("time"), int | float):
        moment = datetime.datetime.fromtimestamp(delivered["time"], tz=datetime.UTC)
        delivered["time"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return delivered


def send_to_targets(original: Callable[..., None]) -> Callable[..., None]:
    """moto's Rule.send_to_targets, with Step Functions targets delivered here."""

    def send(rule: Any, event: dict[str, Any], transform_input: bool = True) -> None:
        machines = [t for t in rule.targets if str(t["Arn"]).split(":")[2] == "states"]
        if not machines:
            original(rule, event, transform_input)
            return
        if not rule.event_pattern.matches_event(event):
            return
        for target in machines:
            deliver(rule, target, _as_delivered(event))
        others = [t for t in rule.targets if t not in machines]
        if others:
            rest = copy.copy(rule)
            rest.targets = others
            original(rest, event, transform_input)

    return send
