"""The embedded AWS's IAM decisions (embedded_aws/iam_policy.py), on the rules of the IAM user
guide's "Policy evaluation logic" it relies on."""

from __future__ import annotations

from typing import Any

import pytest

from embedded_aws.iam_policy import RolePolicies

ARN = "arn:aws:iam::123456789012:role/fargate-env/fargate-env/fenv-a-exec-us-east-1"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:fargate-env"


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def role(*identity: dict[str, Any], boundary: dict[str, Any] | None = None) -> RolePolicies:
    return RolePolicies(ARN, tuple(identity), boundary, tags={"fargate-env:environment": "a"})


def test_nothing_is_allowed_unless_a_statement_allows_it():
    assert not role().allows("s3:GetObject", "arn:aws:s3:::b/k")
    assert not role(policy(allow("s3:PutObject", "*"))).allows("s3:GetObject", "arn:aws:s3:::b/k")


def test_actions_match_case_insensitively_with_wildcards_resources_case_sensitively():
    granted = role(policy(allow("S3:Get*", "arn:aws:s3:::bucket/logs/??.txt")))
    assert granted.allows("s3:getobject", "arn:aws:s3:::bucket/logs/01.txt")
    assert not granted.allows("s3:GetObject", "arn:aws:s3:::bucket/logs/001.txt")
    assert not granted.allows("s3:GetObject", "arn:aws:s3:::BUCKET/logs/01.txt")


def test_an_explicit_deny_wins():
    denied = {"Effect": "Deny", "Action": "secretsmanager:*", "Resource": f"{SECRET}/b/*"}
    both = role(policy(allow("secretsmanager:GetSecretValue", "*"), denied))
    assert both.allows("secretsmanager:GetSecretValue", f"{SECRET}/a/x")
    assert not both.allows("secretsmanager:GetSecretValue", f"{SECRET}/b/x")


def test_not_action_and_not_resource():
    everything_but = role(
        policy({"Effect": "Allow", "NotAction": "iam:*", "NotResource": "*secret*"})
    )
    assert everything_but.allows("s3:GetObject", "arn:aws:s3:::b/k")
    assert not everything_but.allows("iam:PassRole", "arn:aws:iam::123456789012:role/x")
    assert not everything_but.allows("s3:GetObject", f"{SECRET}/a/x")


def test_the_boundary_caps_what_the_identity_policies_allow():
    boundary = policy(
        allow(
            "secretsmanager:GetSecretValue",
            f"{SECRET}/${{aws:PrincipalTag/fargate-env:environment}}/*",
        )
    )
    capped = role(policy(allow("secretsmanager:*", "*")), boundary=boundary)
    assert capped.allows("secretsmanager:GetSecretValue", f"{SECRET}/a/db")
    assert not capped.allows("secretsmanager:GetSecretValue", f"{SECRET}/b/db")
    assert not capped.allows("secretsmanager:DescribeSecret", f"{SECRET}/a/db")
    # the boundary alone grants nothing
    assert not role(boundary=boundary).allows("secretsmanager:GetSecretValue", f"{SECRET}/a/db")


def test_a_policy_variable_without_a_value_matches_nothing():
    untagged = RolePolicies(
        ARN,
        (policy(allow("logs:*", "arn:aws:logs:*:*:log-group:/${aws:PrincipalTag/team}")),),
        None,
    )
    assert not untagged.allows("logs:PutLogEvents", "arn:aws:logs:us-east-1:1:log-group:/")


@pytest.mark.parametrize(
    ("condition", "context", "allowed"),
    [
        (
            {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            {"iam:PassedToService": "ecs-tasks.amazonaws.com"},
            True,
        ),
        (
            {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            {"iam:PassedToService": "lambda.amazonaws.com"},
            False,
        ),
        ({"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}, {}, False),
        ({"StringEqualsIfExists": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}, {}, True),
        ({"StringNotEquals": {"aws:RequestTag/x": "y"}}, {}, True),
        (
            {"ArnLike": {"ecs:cluster": "arn:aws:ecs:*:*:cluster/fenv-*"}},
            {"ecs:cluster": "arn:aws:ecs:us-east-1:1:cluster/fenv-a"},
            True,
        ),
        (
            {"ArnLike": {"ecs:cluster": "arn:aws:ecs:*:*:cluster/fenv-*"}},
            {"ecs:cluster": "arn:aws:ecs:us-east-1:1:cluster/other"},
            False,
        ),
    ],
)
def test_conditions(condition, context, allowed):
    conditional = role(policy(allow("iam:PassRole", "*", Condition=condition)))
    assert conditional.allows("iam:PassRole", "arn:aws:iam::1:role/r", context) is allowed


def test_an_operator_it_does_not_know_is_an_error_not_an_allow():
    unknown = role(policy(allow("s3:*", "*", Condition={"NumericLessThan": {"s3:max-keys": "10"}})))
    with pytest.raises(NotImplementedError, match="NumericLessThan"):
        unknown.allows("s3:ListBucket", "arn:aws:s3:::b", {"s3:max-keys": "5"})


def test_a_trust_policy_names_the_service_that_may_assume_the_role():
    trust = policy(
        {
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    )
    assert RolePolicies(ARN, (), None, trust=trust).trusts_service("ecs-tasks.amazonaws.com")
    assert not RolePolicies(ARN, (), None, trust=trust).trusts_service("lambda.amazonaws.com")
    assert not RolePolicies(ARN, (), None).trusts_service("ecs-tasks.amazonaws.com")
