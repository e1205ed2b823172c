"""The rules only the embedded AWS can apply (embedded_aws/strict): Lambda's Timeout, MemorySize
and payload limits per invocation, Step Functions' payload and history limits in the interpreter,
the API token buckets on the simulated clock - each refusal in AWS's shape, and what our flows do
when they meet it. Each test names its rule's id (rules.py)."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from embedded_aws.emulator import SERVICE_LINKED_ROLE_PENDING, EmbeddedAWS, Execution
from embedded_aws.faults import Faults
from embedded_aws.strict import rules
from embedded_aws.strict.stepfunctions import history_cause
from embedded_aws.template import FunctionInfo
from fargate_env import failures
from tests.flows.test_resilience import failed_task_errors

PROBE_SOURCE = """
from fargate_env import clock


def lambda_handler(event, context):
    clock.sleep(event.get("sleep", 0))
    held = bytearray(event.get("allocate", 0))
    return {
        "remaining_ms": context.get_remaining_time_in_millis(),
        "memory_mb": context.memory_limit_in_mb,
        "held": len(held),
        "text": "x" * event.get("size", 0),
    }
"""
PROBE_TIMEOUT = 3
PROBE_MEMORY = 128
MIB = 1024 * 1024
ROLE_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@pytest.fixture
def probe(embedded: EmbeddedAWS, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A function of our own in the embedded AWS (3 s, 128 MiB): sleeps (simulated), allocates
    and answers as much as it is asked to."""
    code = tmp_path / "strict_probe"
    code.mkdir()
    (code / "app.py").write_text(PROBE_SOURCE)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("app.py", PROBE_SOURCE)
    iam = embedded.client("iam")
    role = iam.create_role(RoleName="strict-probe", AssumeRolePolicyDocument=ROLE_TRUST)
    function = embedded.client("lambda").create_function(
        FunctionName="strict-probe",
        Runtime="python3.13",
        Role=role["Role"]["Arn"],
        Handler="app.lambda_handler",
        Code={"ZipFile": archive.getvalue()},
        Timeout=PROBE_TIMEOUT,
        MemorySize=PROBE_MEMORY,
    )
    runner = embedded.runner
    runner.catalog["StrictProbe"] = FunctionInfo(
        logical_id="StrictProbe",
        code_dir=code,
        handler="app.lambda_handler",
        timeout=PROBE_TIMEOUT,
        memory_size=PROBE_MEMORY,
    )
    runner.physical_names["strict-probe"] = "StrictProbe"
    runner.memory_every_invocation = True
    try:
        yield {"arn": function["FunctionArn"], "role": role["Role"]["Arn"]}
    finally:
        runner.memory_every_invocation = False
        runner.physical_names.pop("strict-probe")
        runner.catalog.pop("StrictProbe")
        runner._modules.pop("StrictProbe", None)
        runner.invocations.pop("strict_probe", None)
        embedded.client("lambda").delete_function(FunctionName="strict-probe")
        iam.delete_role(RoleName="strict-probe")


def invoke(embedded: EmbeddedAWS, event: Any) -> tuple[str | None, dict[str, Any]]:
    answer = embedded.client("lambda").invoke(
        FunctionName="strict-probe", Payload=json.dumps(event).encode()
    )
    return answer.get("FunctionError"), json.loads(answer["Payload"].read())


# ------------------------------------------------------------------ Lambda
def test_a_handler_past_its_timeout_answers_sandbox_timedout(embedded, probe):
    # rule lambda.timeout: the simulated clock runs the sleep; the context counts down
    error, answer = invoke(embedded, {"sleep": 1})
    assert error is None
    assert 1900 <= answer["remaining_ms"] <= 2000
    assert answer["memory_mb"] == PROBE_MEMORY

    error, answer = invoke(embedded, {"sleep": PROBE_TIMEOUT + 1})

    assert error == "Unhandled"
    assert answer["errorType"] == "Sandbox.Timedout"
    assert answer["errorMessage"].endswith("Error: Task timed out after 3.00 seconds")


def test_a_handler_allocating_past_its_memory_size_answers_out_of_memory(embedded, probe):
    # rule lambda.memory
    assert invoke(embedded, {"allocate": 16 * MIB})[0] is None

    error, answer = invoke(embedded, {"allocate": (PROBE_MEMORY + 16) * MIB})

    assert error == "Unhandled"
    assert answer["errorType"] == "Runtime.OutOfMemory"


def test_synchronous_payloads_over_6_mb_are_refused_both_ways(embedded, probe):
    # rules lambda.request-size, lambda.response-size
    with pytest.raises(ClientError) as raised:
        invoke(embedded, {"pad": "x" * rules.LAMBDA_SYNC_PAYLOAD_BYTES})
    assert raised.value.response["Error"]["Code"] == "RequestTooLargeException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413

    error, answer = invoke(embedded, {"size": rules.LAMBDA_SYNC_PAYLOAD_BYTES})

    assert error == "Unhandled"
    assert answer["errorType"] == "Function.ResponseSizeTooLarge"
    assert "6291556 bytes" in answer["errorMessage"]


# ------------------------------------------------------------------ Step Functions
def run_machine(
    embedded: EmbeddedAWS, definition: dict, name: str
) -> tuple[Execution, list[dict[str, Any]]]:
    """Run a state machine of the test's own to its end: the execution and its history."""
    sfn = embedded.client("stepfunctions")
    arn = sfn.create_state_machine(
        name=name,
        definition=json.dumps({"QueryLanguage": "JSONata", **definition}),
        roleArn=f"arn:aws:iam::123456789012:role/{name}",
    )["stateMachineArn"]
    try:
        execution = embedded.wait(embedded.start_execution(arn, {}, f"{name}-run"))
        return execution, embedded.history(execution.arn)
    finally:
        sfn.delete_state_machine(stateMachineArn=arn)


def probe_task(payload: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": "strict-probe", "Payload": payload},
        "End": True,
    }


BIG = "{% $pad('', 300000, 'x') %}"


@pytest.mark.parametrize(
    ("case", "states", "invoked"),
    [
        ("lambda-result", {"Probe": probe_task({"size": 300_000})}, 1),
        ("task-input", {"Probe": probe_task({"text": BIG})}, 0),
        ("state-output", {"Probe": {"Type": "Pass", "Output": BIG, "End": True}}, 0),
    ],
)
def test_data_over_256_kib_in_a_state_fails_with_states_data_limit_exceeded(
    embedded, probe, case, states, invoked
):
    # rule states.payload: a Lambda's result (moto), a Task's input after Arguments (ours), a
    # state's output (moto)
    execution, _ = run_machine(embedded, {"StartAt": "Probe", "States": states}, f"limit-{case}")

    assert execution.status == "FAILED"
    assert execution.error == "States.DataLimitExceeded"
    assert "exceeding the maximum number of bytes service limit" in execution.cause
    assert embedded.runner.invocations["strict_probe"] == invoked


def test_an_execution_input_over_256_kib_is_refused(embedded):
    # rule states.execution-input
    with pytest.raises(ClientError) as raised:
        embedded.start_execution(
            embedded.provision_arn, {"spec": {"name": "x" * rules.STATES_PAYLOAD_BYTES}}, "big"
        )
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "262144" in raised.value.response["Error"]["Message"]


@pytest.fixture
def history_limit(embedded: EmbeddedAWS) -> Iterator[int]:
    """A smaller history budget: the mechanism is the same, the loops are shorter (reaching
    25,000 events takes ~14 s of interpreter time)."""
    embedded.strict.history.limit = 400
    try:
        yield 400
    finally:
        embedded.strict.history.limit = rules.HISTORY_EVENTS


LOOP = {
    "StartAt": "Count",
    "States": {
        "Count": {
            "Type": "Pass",
            "Assign": {"n": "{% ($exists($n) ? $n : 0) + 1 %}"},
            "Next": "Again",
        },
        "Again": {
            "Type": "Choice",
            "Choices": [{"Condition": "{% $n < 1000000 %}", "Next": "Count"}],
            "Default": "Done",
        },
        "Done": {"Type": "Succeed"},
    },
}


def test_a_full_history_fails_the_execution_itself_no_catch_runs(embedded, history_limit):
    # rule states.history: the loop runs in a Parallel branch whose Catch would take States.ALL
    machine = {
        "StartAt": "Loop",
        "States": {
            "Loop": {
                "Type": "Parallel",
                "Branches": [LOOP],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    execution, events = run_machine(embedded, machine, "history")

    assert execution.status == "FAILED"
    assert execution.error == "States.Runtime"
    assert execution.cause == history_cause(history_limit)
    assert len(events) == history_limit
    assert events[-1]["type"] == "ExecutionFailed"
    assert not [e for e in events if e.get("stateEnteredEventDetails", {}).get("name") == "Caught"]


def test_a_provisioning_that_fills_its_history_is_not_rolled_back(embedded, env_name):
    # rule states.history: AWS ends the execution; no compensation runs, resources stay behind
    # (why every polling loop must be bounded by the history budget, not only by time)
    full = embedded.provision({"name": env_name})
    assert full.status == "SUCCEEDED"
    needed = len(embedded.history(full.arn))
    assert embedded.teardown(env_name).status == "SUCCEEDED"

    # The same provisioning, with room for all but the last few events it needs
    embedded.strict.history.limit = needed - 12
    try:
        execution = embedded.provision({"name": env_name})
    finally:
        embedded.strict.history.limit = rules.HISTORY_EVENTS

    assert execution.status == "FAILED"
    assert (execution.error, execution.cause) == ("States.Runtime", history_cause(needed - 12))
    assert len(embedded.history(execution.arn)) == needed - 12
    left = embedded.remaining(env_name)
    assert left, "the execution stopped before any rollback: what it created is still there"
    assert embedded.teardown(env_name).status == "SUCCEEDED"
    assert embedded.remaining(env_name) == []


# ------------------------------------------------------------------ our flows meet the rules
def test_a_step_past_its_lambda_timeout_fails_once_and_is_rolled_back(embedded, env_name):
    # rule lambda.timeout: create_cluster (Timeout 20 s) takes 25 s after creating the cluster
    timeout = embedded.runner.catalog["CreateClusterFunction"].timeout
    embedded.reconfigure(faults=Faults(slow_steps={"create_cluster": timeout + 5}))

    execution = embedded.provision({"name": env_name})

    assert execution.status == "FAILED"
    assert execution.error == "Sandbox.Timedout"
    cause = execution.cause_json()
    assert cause["failed_step"] == "Create the cluster"
    assert failed_task_errors(embedded, execution.arn) == ["Sandbox.Timedout"]  # not retried
    assert cause["resources"].startswith(failures.ROLLED_BACK)
    assert embedded.remaining(env_name) == []


def test_the_service_linked_role_fault_answers_as_ecs_does(embedded):
    # faults.cluster_role_pending: off by default; when on, ECS's answer in a fresh account
    embedded.reconfigure(faults=Faults(cluster_role_pending=1))
    ecs = embedded.client("ecs")
    request = {"clusterName": "slr-probe", "capacityProviders": ["FARGATE"]}
    with embedded.runner.acting_as("create_cluster"):
        with pytest.raises(ClientError) as raised:
            ecs.create_cluster(**request)
        assert ecs.create_cluster(**request)["cluster"]["status"] == "ACTIVE"
    error = raised.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "InvalidParameterException",
        SERVICE_LINKED_ROLE_PENDING,
    )
    ecs.delete_cluster(cluster="slr-probe")


def test_a_first_cluster_waits_out_the_service_linked_role(embedded, env_name):
    """Issue #10: ECS's "Unable to assume the service linked role" while the role propagates
    is retryable (it used to be a terminal AwsRequestFailed)."""
    embedded.reconfigure(faults=Faults(cluster_role_pending=1))

    execution = embedded.provision({"name": env_name})

    try:
        assert execution.status == "SUCCEEDED", execution.cause
    finally:
        embedded.reconfigure(faults=Faults())
        assert embedded.teardown(env_name).status == "SUCCEEDED"


# ------------------------------------------------------------------ API rates
TASK_DEFINITION = {
    "family": "rate",
    "containerDefinitions": [{"name": "app", "image": "nginx", "memory": 512}],
}


MISSING = {"cluster": "strict-missing"}


@pytest.mark.parametrize(
    ("bucket", "service", "action", "request_"),
    [
        ("ecs-service-mutations", "ecs", "delete_service", {**MISSING, "service": "x"}),
        ("ecs-register-task-definition", "ecs", "register_task_definition", TASK_DEFINITION),
        ("ecs-describe-services", "ecs", "describe_services", {**MISSING, "services": ["x"]}),
        ("ecs-run-stop-task", "ecs", "stop_task", {**MISSING, "task": "x"}),
        ("elbv2-describe", "elbv2", "describe_load_balancers", {}),
        ("ec2-non-mutating", "ec2", "describe_security_groups", {}),
        ("ec2-mutating", "ec2", "delete_security_group", {"GroupId": "sg-0123456789abcdef0"}),
    ],
)
def test_calls_by_steps_beyond_the_burst_are_throttled_in_the_services_shape(
    embedded, bucket, service, action, request_
):
    # rules rate.ecs-service-mutations, rate.ecs-register-task-definition,
    # rate.ecs-describe-services, rate.ecs-run-stop-task, rate.elbv2-describe,
    # rate.ec2-non-mutating, rate.ec2-mutating (a call AWS answers with an error still counts)
    limits = next(item for item in rules.BUCKETS if item.name == bucket)
    config = Config(retries={"mode": "standard", "total_max_attempts": 1})
    call = getattr(boto3.client(service, region_name=embedded.region, config=config), action)
    answers: list[str] = []

    def attempt() -> str:
        try:
            call(**request_)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == limits.error:
                return limits.error
        return "answered"

    def calls() -> None:
        # A thread of its own: its simulated time moves only with its own calls.
        for _ in range(limits.burst):
            attempt()  # outside a step: nothing is counted
        with embedded.runner.acting_as("a_step"):
            while len(answers) < 3 * limits.burst and limits.error not in answers:
                answers.append(attempt())

    thread = threading.Thread(target=calls)
    thread.start()
    thread.join()

    # The burst, plus what refilled while it was spent (each call takes api_call seconds)
    passed = len(answers) - 1
    refilled = passed * embedded.model.api_call * limits.refill
    assert answers[-1] == limits.error
    assert limits.burst <= passed <= limits.burst + refilled + 1
    assert embedded.strict.rates.throttled[bucket] == 1


def test_twelve_environments_at_once_succeed_under_aws_rates_and_leave_nothing(embedded, capsys):
    # every rate.* rule at once: boto3's retries and the ASL's AwsThrottled retry absorb
    # the throttling
    names = [f"rate{i:02d}" for i in range(12)]
    started = [
        embedded.start_execution(embedded.provision_arn, {"spec": {"name": n}}, f"p-{n}")
        for n in names
    ]
    provisions = [embedded.wait(arn, timeout=900) for arn in started]
    started = [
        embedded.start_execution(embedded.teardown_arn, {"name": n}, f"t-{n}") for n in names
    ]
    teardowns = [embedded.wait(arn, timeout=900) for arn in started]

    assert [p.status for p in provisions] == ["SUCCEEDED"] * 12, [p.cause for p in provisions]
    assert [t.status for t in teardowns] == ["SUCCEEDED"] * 12, [t.cause for t in teardowns]
    assert all(embedded.remaining(name) == [] for name in names)
    throttled = embedded.strict.rates.throttled
    with capsys.disabled():
        print(f"\n12 environments at once: {sum(throttled.values())} calls throttled {throttled}")
    assert sum(throttled.values()) > 0
