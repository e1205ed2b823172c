"""moto put right where it fails the flows (embedded_aws/moto_fixes.py)."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.model import ServiceModel as BotocoreServiceModel
from moto.core.model import OperationModel
from moto.core.utils import _load_service_model

from embedded_aws import moto_fixes
from embedded_aws.patches import Patches


def _second_look_during_the_first(patches: Patches) -> Any:
    """A fresh ELBv2 model's first look-up of an operation, with another thread asking for the
    same operation while moto's look-up is between botocore's and its own (held there up to
    0.5 s): what the other thread got."""
    from moto.core.model import ServiceModel

    model = ServiceModel(_load_service_model("elbv2", "service-2"), "elbv2")
    botocore_lookup = BotocoreServiceModel.operation_model
    seen: list[Any] = []

    def slow_botocore_lookup(self: Any, name: str) -> Any:
        found = botocore_lookup(self, name)
        if threading.current_thread() is first:
            other = threading.Thread(target=lambda: seen.append(model.operation_model(name)))
            other.start()
            other.join(0.5)  # blocked by the fix; answered at once without it
            others.append(other)
        return found

    others: list[threading.Thread] = []
    patches.set(BotocoreServiceModel, "operation_model", slow_botocore_lookup)
    first = threading.Thread(target=lambda: model.operation_model("DescribeListeners"))
    first.start()
    first.join()
    for other in others:
        other.join()
    return seen[0]


def test_an_operation_looked_up_by_two_threads_at_once_is_motos_in_both() -> None:
    patches = Patches()
    try:
        moto_fixes.install(patches.set)
        answer = _second_look_during_the_first(patches)
    finally:
        patches.undo()
    # moto's own model, which its routers need (botocore's has no http_trait)
    assert isinstance(answer, OperationModel)
    assert hasattr(answer, "http_trait")


class _RecordedExecution:
    """An execution that records the order its fields are set in."""

    def __init__(self, env: Any) -> None:
        object.__setattr__(self, "order", [])
        object.__setattr__(self, "exec_worker", SimpleNamespace(env=env))

    def __setattr__(self, name: str, value: Any) -> None:
        self.order.append(name)
        object.__setattr__(self, name, value)


def test_an_ended_execution_has_its_output_before_it_says_succeeded() -> None:
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramEnded
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    env = SimpleNamespace(
        program_state=ProgramEnded, states=SimpleNamespace(get_input=lambda: {"deleted": 9})
    )
    execution = _RecordedExecution(env)
    patches = Patches()
    try:
        moto_fixes.install(patches.set)
        BaseExecutionWorkerCommunication(execution)._reflect_execution_status()
    finally:
        patches.undo()

    # a DescribeExecution between the two never reads SUCCEEDED without the output
    assert execution.order.index("output") < execution.order.index("exec_status")
    assert execution.output == {"deleted": 9}


def test_method_names_are_read_once_per_class_and_again_when_a_method_is_added():
    # Given moto's method_names_from_class, counted, behind the fix
    from moto.core.utils import method_names_from_class

    reads: list[type] = []

    def counted(clazz: Any) -> list[str]:
        reads.append(clazz)
        return method_names_from_class(clazz)

    remembered = moto_fixes._remembered_method_names(counted)

    class Base:
        def describe_things(self) -> None: ...

    class Handler(Base):
        def create_thing(self) -> None: ...

    # When a request class is asked about twice, it is read once
    assert remembered(Handler) == ["create_thing", "describe_things"]
    assert remembered(Handler) == ["create_thing", "describe_things"]
    assert reads == [Handler]

    # And a method added to a base class later is seen, and gone again once removed
    Base.test_event_pattern = lambda self: None  # type: ignore[attr-defined]
    assert "test_event_pattern" in remembered(Handler)
    del Base.test_event_pattern  # type: ignore[attr-defined]
    assert "test_event_pattern" not in remembered(Handler)
    assert len(reads) == 2  # once more for the added method; the class as it was is known


def _an_execution_with_history() -> tuple[Any, str, list[int]]:
    """A finished execution in the unit tests' moto account, and its event ids as moto has them."""
    import boto3

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    iam = boto3.client("iam", region_name="us-east-1")
    role = iam.create_role(RoleName="sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    machine = sfn.create_state_machine(
        name="m",
        roleArn=role,
        definition='{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}',
    )["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    everything = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return sfn, arn, [int(event["id"]) for event in everything]


def test_the_execution_history_comes_in_pages_as_aws_gives_it(aws: None) -> None:
    sfn, arn, ids = _an_execution_with_history()
    assert len(ids) >= 3

    # Pages of maxResults, a token for the rest, oldest first unless reverseOrder
    first = sfn.get_execution_history(executionArn=arn, maxResults=2)
    assert [e["id"] for e in first["events"]] == ids[:2]
    rest = sfn.get_execution_history(executionArn=arn, maxResults=2, nextToken=first["nextToken"])
    assert [e["id"] for e in rest["events"]] == ids[2:4]
    newest = sfn.get_execution_history(executionArn=arn, maxResults=1, reverseOrder=True)
    assert [e["id"] for e in newest["events"]] == ids[-1:]
    paged = sfn.get_paginator("get_execution_history").paginate(
        executionArn=arn, PaginationConfig={"PageSize": 1}
    )
    assert [e["id"] for page in paged for e in page["events"]] == ids

    # A token of another request, and a page over 1000, are refused
    with pytest.raises(ClientError) as refused:
        sfn.get_execution_history(
            executionArn=arn, maxResults=2, nextToken=first["nextToken"], reverseOrder=True
        )
    assert refused.value.response["Error"]["Code"] == "InvalidToken"
    with pytest.raises(ClientError) as too_many:
        sfn.get_execution_history(executionArn=arn, maxResults=1001)
    assert too_many.value.response["Error"]["Code"] == "ValidationException"


def test_following_reads_the_new_events_only_oldest_first(aws: None) -> None:
    from fenv_cli.progress import events_after

    sfn, arn, ids = _an_execution_with_history()

    assert [e["id"] for e in events_after(sfn, arn, 0)] == ids
    assert [e["id"] for e in events_after(sfn, arn, ids[1])] == ids[2:]
    assert events_after(sfn, arn, ids[-1]) == []


def test_a_json_template_is_read_as_json_and_any_other_as_yaml(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from moto.cloudformation.models import Stack

    patches = Patches()
    moto_fixes.install(patches.set)
    try:
        yaml_read: list[str] = []
        _record_yaml_reads(monkeypatch, yaml_read)
        assert Stack.parse_template('{"Resources": {"A": {"Type": "T"}}}') == {
            "Resources": {"A": {"Type": "T"}}
        }
        assert yaml_read == []  # JSON never went through PyYAML
        assert Stack.parse_template("Resources:\n  A: {Type: T}\n") == {
            "Resources": {"A": {"Type": "T"}}
        }
        assert Stack.parse_template("{Resources: {A: {Type: T}}}") == {
            "Resources": {"A": {"Type": "T"}}
        }  # YAML's flow style: not JSON, so YAML reads it
        assert len(yaml_read) == 2
    finally:
        patches.undo()


def _record_yaml_reads(monkeypatch: pytest.MonkeyPatch, read: list[str]) -> None:
    """PyYAML's load, as moto's CloudFormation calls it, records what it reads."""
    import moto.cloudformation.models as models

    load = models.yaml.load

    def recorded(text: str, Loader: Any) -> Any:
        read.append(text)
        return load(text, Loader=Loader)

    monkeypatch.setattr(models.yaml, "load", recorded)
