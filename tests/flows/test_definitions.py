"""What the embedded AWS's Step Functions refuses at CreateStateMachine (as AWS does), and the
execution histories it records, checked against the state machine builder's event model."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from embedded_aws.emulator import DeployError, EmbeddedAWS
from embedded_aws.faults import Faults, StepFault
from tools.statemachines import bounds_check

ROLE = "arn:aws:iam::123456789012:role/fargate-env-test"
#: The teardown's Catch of "Find the environment's resources" as it once was: the apostrophe
#: ends the JSONata string.
BROKEN = (
    "{% $string({'failed_step': 'Find the environment's resources', 'error': "
    "$states.errorOutput.Error}) %}"
)


def one_state(output: Any) -> str:
    return json.dumps(
        {
            "QueryLanguage": "JSONata",
            "StartAt": "Find the environment's resources",
            "States": {
                "Find the environment's resources": {
                    "Type": "Pass",
                    "Output": {"Error": "E", "Cause": output},
                    "End": True,
                }
            },
        }
    )


def test_a_definition_whose_jsonata_does_not_compile_is_refused(embedded: EmbeddedAWS, env_name):
    sfn = embedded.client("stepfunctions")

    with pytest.raises(ClientError) as refused:
        sfn.create_state_machine(name=env_name, definition=one_state(BROKEN), roleArn=ROLE)

    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidDefinition"
    assert error["Message"].startswith("Invalid State Machine Definition: 'INVALID_JSONATA_EXP")
    assert error["Message"].endswith("at /States/Find the environment's resources/Output/Cause'")
    names = [m["name"] for m in sfn.list_state_machines()["stateMachines"]]
    assert env_name not in names


def test_an_update_to_a_broken_expression_is_refused(embedded: EmbeddedAWS, env_name):
    sfn = embedded.client("stepfunctions")
    fine = one_state("{% $string({'failed_step': \"Find the environment's resources\"}) %}")
    arn = sfn.create_state_machine(name=env_name, definition=fine, roleArn=ROLE)["stateMachineArn"]

    with pytest.raises(ClientError, match="INVALID_JSONATA_EXPRESSION"):
        sfn.update_state_machine(stateMachineArn=arn, definition=one_state(BROKEN))

    assert sfn.describe_state_machine(stateMachineArn=arn)["definition"] == fine


def test_step_functions_own_functions_compile(embedded: EmbeddedAWS, env_name):
    own = (
        "{% [$partition([1, 2, 3], 2), $range(0, 10, 2), $hash('a', 'SHA-256'), $random(), "
        "$uuid(), $parse('{\"a\": 1}')] %}"
    )
    created = embedded.client("stepfunctions").create_state_machine(
        name=env_name, definition=one_state(own), roleArn=ROLE
    )
    assert created["stateMachineArn"].endswith(f":{env_name}")


def test_the_execution_start_time_is_iso_8601_text_as_on_aws(embedded: EmbeddedAWS, env_name):
    # (a request with no time of its own was made when its execution started: validation.py)
    start_time = "{% $states.context.Execution.StartTime %}"
    sfn = embedded.client("stepfunctions")
    arn = sfn.create_state_machine(name=env_name, definition=one_state(start_time), roleArn=ROLE)

    execution = embedded.wait(embedded.start_execution(arn["stateMachineArn"], {}, env_name))

    started = sfn.describe_execution(executionArn=execution.arn)["startDate"]
    written = started.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    assert execution.output["Cause"] == written


def test_deploying_a_template_with_a_broken_expression_fails(
    emulator: EmbeddedAWS, tmp_path: Path, env_name
):
    (tmp_path / "broken.asl.json").write_text(one_state(BROKEN))
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  BrokenStateMachine:\n"
        "    Type: AWS::Serverless::StateMachine\n"
        "    Properties:\n"
        "      DefinitionUri: broken.asl.json\n"
    )
    stack = EmbeddedAWS(template_path=tmp_path / "template.yaml", stack_name=env_name)

    with pytest.raises(DeployError, match="INVALID_JSONATA_EXPRESSION") as refused:
        stack.deploy()

    # moto's CloudFormation lets the refusal end CreateStack (AWS would roll the stack back with
    # it as the resource's reason): either way the deploy fails naming the state and field
    assert "at /States/Find the environment" in str(refused.value)
    assert "resources/Output/Cause" in str(refused.value)


def predicted_events(history: list[dict[str, Any]]) -> int:
    """The events the builder's model gives the states this execution visited."""
    seen = Counter(event["type"] for event in history)
    per_visit = {
        **bounds_check.STATE_EVENTS,
        "Parallel": bounds_check.PARALLEL_EVENTS,
        "Map": bounds_check.MAP_EVENTS,
    }
    visits = sum(
        per_visit[kind.removesuffix("StateEntered")] * count
        for kind, count in seen.items()
        if kind.endswith("StateEntered")
    )
    return (
        bounds_check.EXECUTION_EVENTS
        + visits
        + bounds_check.RETRY_EVENTS * (seen["TaskScheduled"] - seen["TaskStateEntered"])
        + bounds_check.MAP_ITEM_EVENTS * seen["MapIterationStarted"]
        + bounds_check.NESTED_EXTRA_EVENTS * seen["TaskSubmitted"]
    )


def test_the_event_model_counts_what_the_histories_record(embedded: EmbeddedAWS, env_name):
    # Given a provisioning with two load balancers whose stability check is retried twice
    spec = {
        "name": env_name,
        "load_balancers": [
            {"id": "web"},
            {"id": "tcp", "type": "network", "listeners": [{"port": 80, "protocol": "TCP"}]},
        ],
    }
    retried = StepFault(step="wait_service_stable", error="TransientAwsError", times=2)
    embedded.reconfigure(faults=Faults(steps=[retried]))
    provisioned = embedded.provision(spec)
    embedded.reconfigure(faults=Faults())
    torn_down = embedded.teardown(env_name)

    # Then the model counts exactly what succeeded executions record
    for execution in (provisioned, torn_down):
        assert execution.status == "SUCCEEDED", execution.cause
        history = embedded.history(execution.arn)
        assert len(history) == predicted_events(history)


def test_the_event_model_bounds_failed_executions(embedded: EmbeddedAWS, env_name):
    # A provisioning rolled back (a nested execution) and a teardown failing in a branch record
    # no more than the model counts (a failed state records no exit, a Fail state no exit)
    embedded.reconfigure(faults=Faults(steps=[StepFault(step="create_service", when="after")]))
    rolled_back = embedded.provision({"name": env_name})
    embedded.reconfigure(faults=Faults())
    assert embedded.provision({"name": env_name}).status == "SUCCEEDED"
    embedded.reconfigure(faults=Faults(steps=[StepFault(step="delete_cluster")]))
    failed_teardown = embedded.teardown(env_name)
    embedded.reconfigure(faults=Faults())
    assert embedded.teardown(env_name).status == "SUCCEEDED"

    for execution in (rolled_back, failed_teardown):
        assert execution.status == "FAILED"
        history = embedded.history(execution.arn)
        assert any(event["type"] == "TaskSubmitted" for event in history) == (
            execution is rolled_back
        )
        assert len(history) <= predicted_events(history)
