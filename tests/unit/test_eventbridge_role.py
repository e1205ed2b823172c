"""The embedded EventBridge's check of a rule's role before it starts a state machine
(embedded_aws/eventbridge.py role_refusal): IAM's evaluation of the role's trust policy and of
its inline and managed policies."""

from __future__ import annotations

import json

import boto3
import pytest

from embedded_aws.eventbridge import role_refusal
from embedded_aws.iam_policy import trusting

ACCOUNT = "123456789012"
MACHINE = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:fargate-env-provision"
TRUST_EVENTS = trusting("events.amazonaws.com")
START = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "states:StartExecution", "Resource": MACHINE}],
}


def make_role(name: str, trust: dict = TRUST_EVENTS) -> str:
    iam = boto3.client("iam", region_name="us-east-1")
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


@pytest.mark.usefixtures("aws")
def test_a_managed_policy_may_grant_the_start():
    iam = boto3.client("iam", region_name="us-east-1")
    arn = make_role("rule-managed")
    policy = iam.create_policy(PolicyName="start", PolicyDocument=json.dumps(START))
    iam.attach_role_policy(RoleName="rule-managed", PolicyArn=policy["Policy"]["Arn"])
    assert role_refusal(ACCOUNT, arn, MACHINE) is None


@pytest.mark.usefixtures("aws")
def test_an_inline_policy_grants_the_start_only_on_its_resource():
    iam = boto3.client("iam", region_name="us-east-1")
    arn = make_role("rule-inline")
    iam.put_role_policy(RoleName="rule-inline", PolicyName="s", PolicyDocument=json.dumps(START))
    assert role_refusal(ACCOUNT, arn, MACHINE) is None
    other = MACHINE.replace("provision", "teardown")
    assert "does not allow states:StartExecution" in str(role_refusal(ACCOUNT, arn, other))


@pytest.mark.usefixtures("aws")
def test_a_role_events_may_not_assume_or_that_is_absent_is_refused():
    arn = make_role("rule-untrusted", trusting("lambda.amazonaws.com"))
    assert "does not trust events.amazonaws.com" in str(role_refusal(ACCOUNT, arn, MACHINE))
    missing = f"arn:aws:iam::{ACCOUNT}:role/nobody"
    assert role_refusal(ACCOUNT, missing, MACHINE) == f"role {missing} does not exist"
    assert "no RoleArn" in str(role_refusal(ACCOUNT, None, MACHINE))
