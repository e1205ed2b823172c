"""The reaper's schedule (template.yaml): EventBridge Scheduler starts the reconcile machine
every ReconcileRate with an input the machine accepts, through a role that may start that
machine alone; an empty rate deploys no schedule."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from embedded_aws import template as template_module
from fargate_env import reconcile


def resources() -> dict[str, Any]:
    return dict(template_module.load_sam_template()["Resources"])


def parameter() -> dict[str, Any]:
    return dict(template_module.load_sam_template()["Parameters"]["ReconcileRate"])


def test_the_schedule_starts_the_reconcile_with_an_input_it_accepts():
    schedule = resources()["ReconcileSchedule"]
    target = schedule["Properties"]["Target"]

    assert schedule["Type"] == "AWS::Scheduler::Schedule"
    assert schedule["Properties"]["ScheduleExpression"] == {"Ref": "ReconcileRate"}
    assert target["Arn"] == {"Ref": "ReconcileStateMachine"}
    assert target["RoleArn"] == {"Fn::GetAtt": ["ReconcileSchedulerRole", "Arn"]}
    assert reconcile.validate(json.loads(target["Input"])) is False  # a real run, not a dry one


def test_the_schedulers_role_may_only_start_the_reconcile():
    role = resources()["ReconcileSchedulerRole"]["Properties"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    [policy] = role["Policies"]
    [statement] = policy["PolicyDocument"]["Statement"]

    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert "aws:SourceAccount" in trust["Condition"]["StringEquals"]
    assert statement["Action"] == ["states:StartExecution"]
    assert statement["Resource"] == {"Ref": "ReconcileStateMachine"}


def test_an_empty_rate_deploys_no_schedule():
    template = template_module.load_sam_template()
    condition = template["Conditions"]["HasReconcileSchedule"]

    assert condition == {"Fn::Not": [{"Fn::Equals": [{"Ref": "ReconcileRate"}, ""]}]}
    for logical_id in ("ReconcileSchedule", "ReconcileSchedulerRole"):
        assert resources()[logical_id]["Condition"] == "HasReconcileSchedule"
    assert parameter()["Default"] == "rate(1 hour)"


@pytest.mark.parametrize(
    ("rate", "accepted"),
    [
        ("", True),
        ("rate(1 hour)", True),
        ("rate(15 minutes)", True),
        ("rate(2 days)", True),
        ("rate(0 hours)", False),
        ("rate(1 week)", False),
        ("every hour", False),
    ],
)
def test_the_rate_parameter_takes_schedulers_rate_expressions(rate, accepted):
    # CloudFormation matches AllowedPattern against the whole value
    assert (re.fullmatch(parameter()["AllowedPattern"], rate) is not None) is accepted
