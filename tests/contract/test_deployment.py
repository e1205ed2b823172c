"""What a deployment keeps and what it needs from the account: the template's stateful
resources outlive the stack, and every samconfig.toml configuration deploys in a new account."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest

from embedded_aws import template as template_module
from tests.support import REPO_ROOT

#: Resource types that hold data or the means to read it.
STATEFUL_TYPES = {"AWS::DynamoDB::Table", "AWS::Logs::LogGroup", "AWS::SQS::Queue", "AWS::KMS::Key"}
#: What Lambda keeps unreserved of the account's concurrency (Lambda quotas; a new account's
#: quota can be as low as 10).
UNRESERVED_MINIMUM = 100


def sam() -> dict[str, Any]:
    return template_module.load_sam_template()


def stateful() -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in sam()["Resources"].items() if r["Type"] in STATEFUL_TYPES}


def test_the_stateful_resources_are_the_ones_the_readme_says_are_retained():
    assert set(stateful()) == {
        "RegistryTable",
        "FunctionsLogGroup",
        "ProvisionStateMachineLogGroup",
        "TeardownStateMachineLogGroup",
        "UpdateStateMachineLogGroup",
        "ReconcileStateMachineLogGroup",
        "GatewaysStateMachineLogGroup",
        "RequestsDeadLetterQueue",
        "ApplicationKey",
    }


@pytest.mark.parametrize("logical_id", sorted(stateful()))
def test_stateful_resources_outlive_deletion_and_replacement(logical_id):
    resource = stateful()[logical_id]
    assert resource.get("DeletionPolicy") == "Retain"
    assert resource.get("UpdateReplacePolicy") == "Retain"


def test_the_readme_says_how_to_remove_each_retained_resource():
    cleanup = (REPO_ROOT / "README.md").read_text().split("## Clean up", 1)[1].split("\n## ", 1)[0]
    for command in (
        "aws dynamodb delete-table --table-name <RegistryTableName>",
        "aws logs delete-log-group --log-group-name /aws/lambda/fargate-env-<stack>",
        "fargate-env-<stack>-provision",
        "fargate-env-<stack>-teardown",
        "fargate-env-<stack>-update",
        "fargate-env-<stack>-reconcile",
        "fargate-env-<stack>-gateways",
        "aws sqs delete-queue --queue-url <RequestsDeadLetterQueueUrl>",
        "aws kms schedule-key-deletion --key-id <ApplicationKeyArn>",
    ):
        assert command in cleanup, command
    outputs = sam()["Outputs"]
    assert {"RegistryTableName", "RequestsDeadLetterQueueUrl", "ApplicationKeyArn"} <= set(outputs)


def configurations() -> dict[str, dict[str, str]]:
    """samconfig.toml: configuration -> its parameter overrides."""
    config = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text())
    found = {}
    for name, sections in config.items():
        if not isinstance(sections, dict):
            continue
        overrides = sections.get("global", {}).get("parameters", {}).get("parameter_overrides", [])
        found[name] = dict(item.split("=", 1) for item in overrides)
    return found


def function_count() -> int:
    return sum(1 for r in sam()["Resources"].values() if r["Type"] == "AWS::Serverless::Function")


@pytest.mark.parametrize("configuration", sorted(configurations()))
def test_every_configuration_deploys_in_a_new_account(configuration):
    # Reserving N per function needs a quota of functions x N + 100 (Lambda keeps 100
    # unreserved); a new account's quota is 10, so no configuration may reserve by default
    per_function = int(configurations()[configuration].get("StepConcurrency", "0"))
    needed = function_count() * per_function + UNRESERVED_MINIMUM
    assert per_function == 0, f"{configuration} needs a concurrency quota of {needed}"


def test_the_configurations_say_what_reserving_concurrency_needs():
    text = (REPO_ROOT / "samconfig.toml").read_text()
    assert len(re.findall(rf"{function_count()} x \S+ \+ 100", text)) >= 2
