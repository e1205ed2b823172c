"""Event-driven lifecycle: EventBridge rules start the flows, the registry keeps one execution
per environment, lifecycle events go out on the bus, and a time to live schedules the teardown."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

from embedded_aws import eventbridge
from embedded_aws.emulator import EmbeddedAWS, Execution
from embedded_aws.faults import Faults, StepFault
from fargate_env import pricing
from fargate_env import spec as spec_model
from tests.flows.request_times import at
from tests.support import EVENTS
from tests.unit.handler_fixtures import substitute

LIFECYCLE_TYPES = ["Environment Ready", "Environment Failed", "Environment Deleted"]


def rules(embedded: EmbeddedAWS) -> dict[str, dict[str, Any]]:
    """The translated template's EventBridge rules, by the state machine they start."""
    template = embedded.translated_template()
    found = {}
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Events::Rule":
            continue
        target = resource["Properties"]["Targets"][0]
        # CloudFormation resolves {"Ref": "AWS::StackName"} on deploy
        stack_name = [({"Ref": "AWS::StackName"}, embedded.stack_name)]
        pattern = substitute(resource["Properties"]["EventPattern"], stack_name)
        found[target["Arn"]["Ref"]] = {"pattern": pattern, **target}
    return found


def sample(name: str) -> Any:
    return json.loads((EVENTS / "eventbridge" / name).read_text())


def matches(embedded: EmbeddedAWS, pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    response = embedded.client("events").test_event_pattern(
        EventPattern=json.dumps(pattern), Event=json.dumps(event)
    )
    return bool(response["Result"])


def registry_item(embedded: EmbeddedAWS, name: str) -> dict[str, Any] | None:
    item = (
        embedded.client("dynamodb")
        .get_item(TableName=embedded.outputs["RegistryTableName"], Key={"name": {"S": name}})
        .get("Item")
    )
    if item is None:
        return None
    return {key: next(iter(value.values())) for key, value in item.items()}


@pytest.fixture
def lifecycle_queue(embedded: EmbeddedAWS, env_name: str) -> str:
    """An SQS queue receiving this test's lifecycle events from the default bus."""
    sqs, events = embedded.client("sqs"), embedded.client("events")
    url = sqs.create_queue(QueueName=f"lifecycle-{env_name}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    rule = f"lifecycle-{env_name}"
    events.put_rule(
        Name=rule,
        EventPattern=json.dumps({"source": ["fargate-env"], "detail-type": LIFECYCLE_TYPES}),
    )
    events.put_targets(Rule=rule, Targets=[{"Id": "queue", "Arn": arn}])
    return str(url)


def received(embedded: EmbeddedAWS, url: str, env: str) -> list[dict[str, Any]]:
    messages = embedded.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    events = [json.loads(m["Body"]) for m in messages.get("Messages", [])]
    return [e for e in events if env in (e["detail"].get("name"), e["detail"].get("environment"))]


# ---------------------------------------------------------------------------- EventBridge rules
def test_sample_events_match_their_rule_and_near_misses_do_not(embedded):
    found = rules(embedded)
    create = found["ProvisionStateMachine"]["pattern"]
    teardown = found["TeardownStateMachine"]["pattern"]
    create_event = sample("create-requested.event.json")
    teardown_event = sample("teardown-requested.event.json")

    assert matches(embedded, create, create_event)
    assert matches(embedded, teardown, teardown_event)
    assert not matches(embedded, create, teardown_event)
    assert not matches(embedded, teardown, create_event)
    near_misses = [
        {**create_event, "source": "fargate-env.test"},
        {**create_event, "detail-type": "Environment Created"},
        {**create_event, "detail": {"spec": {"image": "nginx"}}},
        {**create_event, "detail": {"name": "pr-1234"}},
        # a request for another deployment (stack) in the same account and bus, or for none
        {**create_event, "detail": {**create_event["detail"], "deployment": "other-stack"}},
        {**create_event, "detail": {"spec": create_event["detail"]["spec"]}},
    ]
    for event in near_misses:
        assert not matches(embedded, create, event), event
    assert not matches(embedded, teardown, {**teardown_event, "detail": {"spec": {"name": "x"}}})
    other = {**teardown_event["detail"], "deployment": "other-stack"}
    assert not matches(embedded, teardown, {**teardown_event, "detail": other})
    # The ready-made put-events entries carry the same source and detail-types
    for entries, event in (
        ("create-requested.entries.json", create_event),
        ("teardown-requested.entries.json", teardown_event),
    ):
        entry = sample(entries)[0]
        assert (entry["Source"], entry["DetailType"]) == (event["source"], event["detail-type"])
        assert json.loads(entry["Detail"]) == event["detail"]


def test_each_rule_target_is_limited_retried_and_dead_lettered(embedded):
    template = embedded.translated_template()
    for machine, target in rules(embedded).items():
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
        assert target["DeadLetterConfig"]["Arn"] == {
            "Fn::GetAtt": ["RequestsDeadLetterQueue", "Arn"]
        }
        role = template["Resources"][target["RoleArn"]["Fn::GetAtt"][0]]
        statements = [
            s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]
        ]
        assert statements == [
            {"Action": "states:StartExecution", "Effect": "Allow", "Resource": {"Ref": machine}}
        ]


def test_the_input_mapping_turns_the_sample_events_into_executions_that_succeed(embedded, env_name):
    found = rules(embedded)
    create_event = sample("create-requested.event.json")
    create_event["detail"]["spec"]["name"] = env_name
    teardown_event = sample("teardown-requested.event.json")
    teardown_event["detail"]["name"] = env_name

    # (the samples' times, moved to the emulator's clock)
    create_event["time"] = at(embedded, 0)
    create_event["detail"]["requested_at"] = at(embedded, 0.25)
    teardown_event["time"] = at(embedded, 1)

    provision_input = eventbridge.target_input(found["ProvisionStateMachine"], create_event)
    provision = embedded.wait(
        embedded.start_execution(embedded.provision_arn, provision_input, f"event-{env_name}")
    )
    teardown_input = eventbridge.target_input(found["TeardownStateMachine"], teardown_event)
    teardown = embedded.wait(
        embedded.start_execution(embedded.teardown_arn, teardown_input, f"event-td-{env_name}")
    )

    assert provision_input == {"detail": create_event["detail"], "time": create_event["time"]}
    assert teardown_input == {"detail": teardown_event["detail"], "time": teardown_event["time"]}
    assert provision.status == "SUCCEEDED", provision.cause
    assert teardown.status == "SUCCEEDED", teardown.cause
    assert embedded.remaining(env_name) == []


# ---------------------------------------------------------------------------- registry
def test_the_registry_follows_a_successful_life(embedded, env_name):
    provision = embedded.provision({"name": env_name})
    ready = registry_item(embedded, env_name)
    teardown = embedded.teardown(env_name)
    deleted = registry_item(embedded, env_name)

    assert provision.status == teardown.status == "SUCCEEDED"
    assert ready["status"] == "READY"
    assert ready["url"] == provision.output["url"]
    assert ready["provision_execution"] == provision.arn
    assert json.loads(ready["resources"])["service"]["name"] == f"fenv-{env_name}"
    assert deleted["status"] == "DELETED"
    assert deleted["teardown_execution"] == teardown.arn


def test_a_failed_provision_is_recorded_with_its_cause_and_leaves_nothing(embedded, env_name):
    embedded.reconfigure(faults=Faults(steps=[StepFault(step="create_listeners")]))

    execution = embedded.provision({"name": env_name})

    item = registry_item(embedded, env_name)
    assert execution.status == "FAILED"
    assert item["status"] == "FAILED"
    failure = json.loads(item["failure"])
    assert failure["failed_step"] == "Create the listeners"
    assert failure["error"] == "InjectedFault"
    assert failure["resources"].startswith("rolled back: 8 deleted (load balancers, target groups")
    assert embedded.remaining(env_name) == []


def test_a_name_that_is_ready_cannot_be_provisioned_again(embedded, env_name):
    assert embedded.provision({"name": env_name}).status == "SUCCEEDED"
    before = embedded.remaining(env_name)
    calls_before = sum(embedded.counters.api_calls.values())

    again = embedded.provision({"name": env_name, "container": {"image": "httpd:2.4"}})

    assert again.status == "FAILED"
    assert again.error == "EnvironmentBusy"
    assert "is READY: it exists; tear it down first" in again.cause_json()["message"]
    assert again.cause_json()["resources"] == "none created"
    assert embedded.remaining(env_name) == before
    # Only the registry was read: no resource API was called by the rejected execution
    touched = sum(embedded.counters.api_calls.values()) - calls_before
    assert touched <= 3
    assert registry_item(embedded, env_name)["status"] == "READY"
    assert embedded.teardown(env_name).status == "SUCCEEDED"


def _start_two(embedded: EmbeddedAWS, spec: dict[str, Any]) -> list[Execution]:
    arns = [
        embedded.start_execution(embedded.provision_arn, {"spec": spec}, f"race-{i}-{spec['name']}")
        for i in (1, 2)
    ]
    return [embedded.wait(arn) for arn in arns]


def test_two_concurrent_creates_for_one_name_let_exactly_one_proceed(embedded, env_name):
    results = _start_two(embedded, {"name": env_name})

    statuses = sorted(result.status for result in results)
    assert statuses == ["FAILED", "SUCCEEDED"]
    loser = next(result for result in results if result.status == "FAILED")
    assert loser.error == "EnvironmentBusy"
    # No duplicate of anything: one load balancer, one service, ...
    left = embedded.remaining(env_name)
    assert len(left) == len(set(left)) == 9
    assert sum(item.startswith("load balancer") for item in left) == 1
    assert embedded.teardown(env_name).status == "SUCCEEDED"
    assert embedded.remaining(env_name) == []


def test_a_teardown_requested_while_creating_waits_for_the_creation_then_removes_it(
    embedded, env_name
):
    provision_arn = embedded.start_execution(
        embedded.provision_arn, {"spec": {"name": env_name}}, f"creating-{env_name}"
    )
    deadline = time.monotonic() + 60
    while (registry_item(embedded, env_name) or {}).get("status") != "CREATING":
        assert time.monotonic() < deadline
        time.sleep(0.01)

    teardown = embedded.teardown(env_name)
    provision = embedded.wait(provision_arn)

    assert provision.status == "SUCCEEDED", provision.cause
    assert teardown.status == "SUCCEEDED", teardown.cause
    waited = [
        e
        for e in embedded.history(teardown.arn)
        if e["type"] == "WaitStateEntered"
        and e["stateEnteredEventDetails"]["name"] == "Wait for the creation to finish"
    ]
    assert waited
    assert embedded.remaining(env_name) == []
    assert registry_item(embedded, env_name)["status"] == "DELETED"


# ---------------------------------------------------------------------------- lifecycle events
def test_ready_and_deleted_events_go_out_on_the_bus(embedded, env_name, lifecycle_queue):
    provision = embedded.provision({"name": env_name})
    embedded.teardown(env_name)

    events = received(embedded, lifecycle_queue, env_name)
    by_type = {event["detail-type"]: event["detail"] for event in events}
    assert set(by_type) == {"Environment Ready", "Environment Deleted"}
    assert by_type["Environment Ready"]["url"] == provision.output["url"]
    # the estimate counts the load balancer's addresses in the zones it was really given
    zones = len(provision.output["resources"]["network"]["load_balancer_subnet_ids"])
    normalised = spec_model.normalise(spec_model.parse({"name": env_name}))
    assert (
        by_type["Environment Ready"]["estimated_hourly_cost_usd"]
        == (pricing.estimate(normalised, zones=zones)["hourly"])
    )
    assert by_type["Environment Deleted"]["deleted"]["load_balancers"]
    assert {detail["deployment"] for detail in by_type.values()} == {embedded.stack_name}


def test_a_failed_event_names_the_step_and_cause(embedded, env_name, lifecycle_queue):
    embedded.reconfigure(faults=Faults(steps=[StepFault(step="create_cluster", when="before")]))

    execution = embedded.provision({"name": env_name})

    events = received(embedded, lifecycle_queue, env_name)
    assert [event["detail-type"] for event in events] == ["Environment Failed"]
    detail = events[0]["detail"]
    # the execution's own failure, plus which execution and deployment
    assert detail == {
        **execution.cause_json(),
        "execution": execution.arn,
        "deployment": "fargate-env",
    }
    assert detail["failed_step"] == "Create the cluster"
    assert detail["error"] == "InjectedFault"
    assert detail["message"] == "create_cluster: fault injected before its work"
    assert detail["resources"].startswith("rolled back")


# ---------------------------------------------------------------------------- expiry
def test_a_time_to_live_schedules_the_teardown_and_teardown_removes_the_schedule(
    embedded, env_name
):
    provision = embedded.provision({"name": env_name, "time_to_live_minutes": 60})
    assert provision.status == "SUCCEEDED", provision.cause
    scheduler = embedded.client("scheduler")
    schedule = scheduler.get_schedule(Name=f"fenv-{env_name}-expiry")

    # The schedule starts the teardown machine with the environment's name, an hour after ready
    at = re.fullmatch(r"at\((.+)\)", schedule["ScheduleExpression"]).group(1)
    expires = registry_item(embedded, env_name)["expires_at"]
    assert expires.startswith(at)
    assert schedule["Target"]["Arn"] == embedded.teardown_arn
    target_input = json.loads(schedule["Target"]["Input"])
    assert target_input == {"name": env_name, "reason": "expired"}
    assert provision.output["expires_at"] == expires

    # When the schedule fires (offline: start the target with its input)
    teardown = embedded.wait(
        embedded.start_execution(embedded.teardown_arn, target_input, f"expired-{env_name}")
    )

    # Then everything, the schedule included, is gone
    assert teardown.status == "SUCCEEDED", teardown.cause
    assert teardown.output["deleted"]["schedule"] == [f"fenv-{env_name}-expiry"]
    assert embedded.remaining(env_name) == []
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.get_schedule(Name=f"fenv-{env_name}-expiry")
