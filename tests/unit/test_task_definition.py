"""Which ECS answers mean "no such task definition": only DescribeTaskDefinition's not-found
answer, not every ClientException (ECS uses that code for other client errors too)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from fargate_env import spec as spec_model
from fargate_env import task_definition
from fargate_env.aws import client

ROLE = "arn:aws:iam::123456789012:role/fargate-env/exec"


def normalised(name: str) -> dict:
    return spec_model.normalise(spec_model.parse({"name": name}))


def test_a_family_without_revisions_is_absent_and_gets_its_first(deployment):
    assert task_definition.find("fresh") == []

    registered = task_definition.register(normalised("fresh"), "/fargate-env/fresh", ROLE)

    assert registered["revision"] == 1
    assert task_definition.find("fresh") == [registered["arn"]]


def test_another_client_exception_is_not_taken_for_absent(deployment, monkeypatch):
    # Given ECS answering DescribeTaskDefinition with a ClientException that is not "not found"
    ecs = client("ecs")

    def refuse(**_: object) -> None:
        error = {"Code": "ClientException", "Message": "The referenced role is not valid."}
        raise ClientError({"Error": error}, "DescribeTaskDefinition")

    monkeypatch.setattr(ecs, "describe_task_definition", refuse)

    # Then registering raises it (it would have registered a duplicate revision)
    with pytest.raises(ClientError, match="not valid"):
        task_definition.register(normalised("refused"), "/fargate-env/refused", ROLE)
