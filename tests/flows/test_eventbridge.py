"""`aws events put-events` -> the template's rules -> the state machines, on the embedded AWS
(moto raises NotImplementedError for a Step Functions target; embedded_aws/eventbridge.py
delivers it): the input mapping, the role, and the dead-letter queue when delivery fails."""

from __future__ import annotations

import json
import time
from typing import Any

from embedded_aws import eventbridge
from embedded_aws.emulator import EmbeddedAWS
from tests.support import EVENTS


def executions(embedded: EmbeddedAWS, machine: str) -> list[dict[str, Any]]:
    sfn = embedded.client("stepfunctions")
    return list(sfn.list_executions(stateMachineArn=machine)["executions"])


def started_by_event(embedded: EmbeddedAWS, machine: str, before: set[str], env: str) -> dict:
    """The execution a put-events started on `machine` for `env` (its description)."""
    sfn = embedded.client("stepfunctions")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for execution in executions(embedded, machine):
            if execution["executionArn"] in before:
                continue
            described = sfn.describe_execution(executionArn=execution["executionArn"])
            detail = json.loads(described["input"])["detail"]
            if env in (detail.get("name"), (detail.get("spec") or {}).get("name")):
                return dict(described)
        time.sleep(0.01)
    raise AssertionError(f"no execution for {env} started on {machine}")


def entries(name: str, env: str) -> list[dict[str, Any]]:
    loaded = json.loads((EVENTS / "eventbridge" / name).read_text())
    for entry in loaded:
        detail = json.loads(entry["Detail"])
        if "spec" in detail:
            detail["spec"]["name"] = env
        else:
            detail["name"] = env
        entry["Detail"] = json.dumps(detail)
    return loaded


def test_put_events_starts_the_machines_with_the_targets_input(embedded, env_name):
    events = embedded.client("events")
    before = {e["executionArn"] for e in executions(embedded, embedded.provision_arn)}

    sent = events.put_events(Entries=entries("create-requested.entries.json", env_name))

    assert sent["FailedEntryCount"] == 0
    provision = started_by_event(embedded, embedded.provision_arn, before, env_name)
    detail = json.loads(entries("create-requested.entries.json", env_name)[0]["Detail"])
    # the InputTransformer's template: the detail, and the event's time
    provision_input = json.loads(provision["input"])
    assert set(provision_input) == {"detail", "time"}
    assert provision_input["detail"] == detail
    assert embedded.wait(provision["executionArn"]).status == "SUCCEEDED"

    before = {e["executionArn"] for e in executions(embedded, embedded.teardown_arn)}
    events.put_events(Entries=entries("teardown-requested.entries.json", env_name))
    teardown = started_by_event(embedded, embedded.teardown_arn, before, env_name)
    teardown_input = json.loads(teardown["input"])
    assert teardown_input["detail"] == json.loads(
        entries("teardown-requested.entries.json", env_name)[0]["Detail"]
    )
    assert embedded.wait(teardown["executionArn"]).status == "SUCCEEDED"
    assert embedded.remaining(env_name) == []


def test_a_role_that_may_not_start_the_machine_dead_letters_the_event(embedded, env_name):
    iam, events, sqs = (embedded.client(s) for s in ("iam", "events", "sqs"))
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam.create_role(RoleName=f"rule-{env_name}", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]["Arn"]
    iam.put_role_policy(  # may start the teardown machine only
        RoleName=f"rule-{env_name}",
        PolicyName="start",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "states:StartExecution",
                        "Resource": embedded.teardown_arn,
                    }
                ],
            }
        ),
    )
    queue = sqs.create_queue(QueueName=f"dlq-{env_name}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    rule = f"wrong-role-{env_name}"
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": [f"test.{env_name}"]}))
    events.put_targets(
        Rule=rule,
        Targets=[
            {
                "Id": "provision",
                "Arn": embedded.provision_arn,
                "RoleArn": role,
                "InputPath": "$.detail",
                "DeadLetterConfig": {"Arn": queue_arn},
            }
        ],
    )
    before = len(executions(embedded, embedded.provision_arn))

    events.put_events(
        Entries=[
            {
                "Source": f"test.{env_name}",
                "DetailType": "Environment Create Requested",
                "Detail": json.dumps({"spec": {"name": env_name}}),
            }
        ]
    )

    messages = sqs.receive_message(
        QueueUrl=queue, MessageAttributeNames=["All"], MaxNumberOfMessages=10
    )["Messages"]
    assert len(messages) == 1
    attributes = {k: v["StringValue"] for k, v in messages[0]["MessageAttributes"].items()}
    assert attributes["ERROR_CODE"] == "NO_PERMISSIONS"
    assert "does not allow states:StartExecution" in attributes["ERROR_MESSAGE"]
    assert attributes["TARGET_ARN"] == embedded.provision_arn
    assert json.loads(messages[0]["Body"])["detail"] == {"spec": {"name": env_name}}
    assert len(executions(embedded, embedded.provision_arn)) == before  # nothing started


def test_input_transformer_placeholders_are_json_values_or_raw_text_inside_strings():
    event = {"detail": {"name": "pr-1", "count": 2, "tags": {"a": "b"}}}
    transformer = {
        "InputPathsMap": {
            "name": "$.detail.name",
            "count": "$.detail.count",
            "tags": "$.detail.tags",
        },
        "InputTemplate": '{"name": <name>, "count": <count>, "tags": <tags>, "text": "env <name>"}',
    }

    assert eventbridge.transform(transformer, event) == {
        "name": "pr-1",
        "count": 2,
        "tags": {"a": "b"},
        "text": "env pr-1",
    }
    assert eventbridge.target_input({"InputPath": "$.detail.tags"}, event) == {"a": "b"}
    assert eventbridge.target_input({"Input": '{"fixed": true}'}, event) == {"fixed": True}
    assert eventbridge.target_input({}, event) == event
