"""The flows run on the embedded AWS: the real template deployed into moto, the real ASL executed
by moto's interpreter, the real handlers answering each Lambda invocation. One emulator serves
the whole session (a deploy costs ~2 s); each test gets its own environment name, its own faults
and its latency model. Every failure a test produces - each failed execution of either machine,
each "Environment Failed" event - is held to the one failure shape when the test ends."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from embedded_aws.emulator import EmbeddedAWS
from embedded_aws.faults import Faults
from embedded_aws.latency import LatencyModel
from embedded_aws.strict.stepfunctions import HISTORY_ERROR, history_cause
from fargate_env import failures, lifecycle_events
from tests.contract.failure_shape import EVENT_KEYS, problems_with

#: AWS's figures (latency_model.json) - the realistic runs.
REAL = LatencyModel.load()
#: Every figure a tenth: the same behaviour in fewer polls, for tests about correctness.
FAST = REAL.scaled(0.1)


def probe_in_the_default_vpc(aws: EmbeddedAWS) -> dict[str, str]:
    """Template parameters deploying the endpoint probe in the default VPC (two subnets)."""
    ec2 = aws.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
    ids = sorted(subnet["SubnetId"] for subnet in subnets["Subnets"])[:2]
    return {"ProbeVpcId": vpc["VpcId"], "ProbeSubnetIds": ",".join(ids)}


FAILED_EVENTS = "failed-events"
#: The cause of an execution Step Functions fails itself for its full history (whatever limit).
HISTORY_FULL = history_cause(0).split("(")[0]


def failed_events_queue(aws: EmbeddedAWS) -> str:
    """A queue receiving every "Environment Failed" event of the default bus."""
    sqs, events = aws.client("sqs"), aws.client("events")
    url = str(sqs.create_queue(QueueName=FAILED_EVENTS)["QueueUrl"])
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    failed = [lifecycle_events.FAILED, lifecycle_events.UPDATE_FAILED]
    pattern = {"source": [lifecycle_events.SOURCE], "detail-type": failed}
    events.put_rule(Name=FAILED_EVENTS, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=FAILED_EVENTS, Targets=[{"Id": "queue", "Arn": arn}])
    return url


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmbeddedAWS]:
    """The application deployed with the optional endpoint probe (in the default VPC): one per
    module, so that its moto account ends with the module and never meets a unit test's."""
    with EmbeddedAWS(parameters=probe_in_the_default_vpc) as aws:
        failed_events_queue(aws)
        yield aws


def failed_executions(aws: EmbeddedAWS) -> set[str]:
    """The ARN of every failed execution of every machine. Only the failed ones are listed: a
    module's machines gather hundreds of executions, and each test looks twice."""
    sfn = aws.client("stepfunctions")
    found: set[str] = set()
    machines = [arn for key, arn in aws.outputs.items() if key.endswith("StateMachineArn")]
    for machine in machines:
        pages = sfn.get_paginator("list_executions").paginate(
            stateMachineArn=machine, statusFilter="FAILED"
        )
        for page in pages:
            found.update(e["executionArn"] for e in page["executions"])
    return found


def failures_since(aws: EmbeddedAWS, before: set[str]) -> list[tuple[str, Any, tuple[str, ...]]]:
    """(where, failure, its keys) of every execution that failed and every Environment Failed
    event since `before` (the failed executions then; the queue keeps only the events not read
    yet)."""
    sfn, sqs = aws.client("stepfunctions"), aws.client("sqs")
    found: list[tuple[str, Any, tuple[str, ...]]] = []
    for arn in failed_executions(aws) - before:
        described = sfn.describe_execution(executionArn=arn)
        if described.get("error") == HISTORY_ERROR and HISTORY_FULL in described["cause"]:
            # Step Functions fails the execution itself (no Catch runs): no state of ours
            # can shape it. The budget check keeps real executions far from it.
            continue
        found.append((arn, described.get("cause"), failures.KEYS))
    url = sqs.get_queue_url(QueueName=FAILED_EVENTS)["QueueUrl"]
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            found.append(("Environment Failed", json.loads(message["Body"])["detail"], EVENT_KEYS))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


@pytest.fixture
def embedded(emulator: EmbeddedAWS) -> Iterator[EmbeddedAWS]:
    """The emulator with no faults and the fast model; tests reconfigure it as they need. When
    the test ends, every failure it produced must have the one shape."""
    emulator.reconfigure(model=FAST, faults=Faults())
    before = failed_executions(emulator)
    yield emulator
    emulator.reconfigure(model=FAST, faults=Faults())
    misshapen = {
        where: found
        for where, failure, keys in failures_since(emulator, before)
        if (found := problems_with(failure, keys))
    }
    assert not misshapen, f"failures not in the one shape: {misshapen}"


@pytest.fixture
def env_name(request: pytest.FixtureRequest) -> str:
    """A short environment name unique to the test (ELBv2 names leave 20 characters)."""
    digest = hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:6]
    stem = re.sub(r"[^a-z0-9]", "", request.node.name.lower())[:11] or "t"
    return f"{stem}-{digest}" if stem[0].isalpha() else f"t{stem[:10]}-{digest}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every flow runs the application on the embedded AWS: `-m "not slow"` leaves them out."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.slow)


def gateway_items(aws: EmbeddedAWS) -> list[dict[str, Any]]:
    """The registry's gateway items (shared mode), deserialised."""
    from boto3.dynamodb.types import TypeDeserializer

    table = aws.physical["RegistryTable"]
    # Filtered by the table, not here: the module's environments fill the table meanwhile.
    items = aws.client("dynamodb").scan(
        TableName=table,
        ConsistentRead=True,
        FilterExpression="kind = :gateway",
        ExpressionAttributeValues={":gateway": {"S": "gateway"}},
    )["Items"]
    deserializer = TypeDeserializer()
    gateways = [{k: deserializer.deserialize(v) for k, v in item.items()} for item in items]
    for item in gateways:
        if isinstance(item.get("resources"), str):
            item["resources"] = json.loads(item["resources"])
    return gateways


def foreign_listener(aws: EmbeddedAWS, port: int) -> str:
    """A listener on `port` of the first gateway, made outside fargate-env (untagged)."""
    arn = gateway_items(aws)[0]["resources"]["arn"]
    action = {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "418"}}
    created = aws.client("elbv2").create_listener(
        LoadBalancerArn=arn, Protocol="HTTP", Port=port, DefaultActions=[action]
    )
    return str(created["Listeners"][0]["ListenerArn"])


def slots_held(aws: EmbeddedAWS, env: str) -> list[str]:
    """The gateway slots `env` holds: none once it is torn down or rolled back."""
    return [
        f"{item['gateway_id']}/{slot}"
        for item in gateway_items(aws)
        for slot, member in (item.get("members") or {}).items()
        if member == env
    ]


@contextmanager
def deployment_settings(aws: EmbeddedAWS, **variables: str) -> Iterator[None]:
    """Every function's environment variables changed as a deploy with other template
    parameters would set them (GATEWAY_MAX_ENVIRONMENTS="3"...), put back when the block ends."""
    functions = aws.client("lambda")
    saved = {}
    for physical in aws.runner.physical_names:
        configuration = functions.get_function_configuration(FunctionName=physical)
        saved[physical] = {k: str(v) for k, v in configuration["Environment"]["Variables"].items()}
        functions.update_function_configuration(
            FunctionName=physical, Environment={"Variables": {**saved[physical], **variables}}
        )
    try:
        yield
    finally:
        for physical, kept in saved.items():
            functions.update_function_configuration(
                FunctionName=physical, Environment={"Variables": kept}
            )


def provision_at_once(aws: EmbeddedAWS, specs: list[dict[str, Any]]) -> list[Any]:
    """Every spec's provisioning started at the same moment, then each awaited (Executions)."""
    arns = [aws.start_execution(aws.provision_arn, {"spec": spec}, spec["name"]) for spec in specs]
    return [aws.wait(arn) for arn in arns]
