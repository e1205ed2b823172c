"""Permissions AWS checks on the caller of an API call besides the call's own action: a call the
role may make can still fail with AccessDenied (often only in a fresh account, where a
service-linked role or an account attribute is looked up for the first time) unless the role
also allows these. Each entry names the AWS page that documents it.

tests/contract/test_iam.py requires every step's role to allow, for each call the step makes,
the permissions listed here (and allows them as no excess).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

ELB_API_PERMISSIONS: Final = (
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-api-permissions.html"
)
ELB_TAG_ON_CREATE: Final = (
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/"
    "load-balancer-authentication-access-control.html#tag-on-create"
)
EC2_TAG_ON_CREATE: Final = (
    "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html"
)
ECS_TAG_ON_CREATE: Final = (
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/supported-iam-actions-tagging.html"
)
ECS_SERVICE_LINKED_ROLE: Final = (
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html"
)
LOGS_CREATE_LOG_GROUP: Final = (
    "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html"
)
PASS_ROLE: Final = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html"
IAM_TAG_ON_CREATE: Final = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html#id_tags_control-tag-ops"
)
SCHEDULER_EXECUTION_ROLE: Final = (
    "https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html"
)

ELB_CREATE_LOAD_BALANCER: Final = frozenset(
    {
        "ec2:DescribeAccountAttributes",
        "ec2:DescribeAddresses",
        "ec2:DescribeInternetGateways",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcs",
        "iam:CreateServiceLinkedRole",
    }
)


@dataclass(frozen=True)
class Checked:
    """What AWS also authorises when `call` is made, and where it says so."""

    permissions: frozenset[str]
    source: str


#: IAM action of a call -> what AWS also checks on its caller.
CHECKED_ON_CALLER: Final[dict[str, tuple[Checked, ...]]] = {
    "elasticloadbalancing:CreateLoadBalancer": (
        Checked(ELB_CREATE_LOAD_BALANCER, ELB_API_PERMISSIONS),
        Checked(frozenset({"elasticloadbalancing:AddTags"}), ELB_TAG_ON_CREATE),
    ),
    "elasticloadbalancing:CreateTargetGroup": (
        Checked(
            frozenset({"ec2:DescribeInternetGateways", "ec2:DescribeVpcs"}), ELB_API_PERMISSIONS
        ),
        Checked(frozenset({"elasticloadbalancing:AddTags"}), ELB_TAG_ON_CREATE),
    ),
    "elasticloadbalancing:CreateListener": (
        Checked(frozenset({"elasticloadbalancing:AddTags"}), ELB_TAG_ON_CREATE),
    ),
    "ec2:CreateSecurityGroup": (Checked(frozenset({"ec2:CreateTags"}), EC2_TAG_ON_CREATE),),
    "ecs:CreateCluster": (
        Checked(frozenset({"iam:CreateServiceLinkedRole"}), ECS_SERVICE_LINKED_ROLE),
        Checked(frozenset({"ecs:TagResource"}), ECS_TAG_ON_CREATE),
    ),
    "ecs:CreateService": (Checked(frozenset({"ecs:TagResource"}), ECS_TAG_ON_CREATE),),
    "ecs:RegisterTaskDefinition": (
        Checked(frozenset({"ecs:TagResource"}), ECS_TAG_ON_CREATE),
        Checked(frozenset({"iam:PassRole"}), PASS_ROLE),
    ),
    # RunTask hands the task definition's roles to ECS again (as any service that runs tasks,
    # e.g. EventBridge's ECS targets, must be allowed to pass them).
    "ecs:RunTask": (
        Checked(frozenset({"ecs:TagResource"}), ECS_TAG_ON_CREATE),
        Checked(frozenset({"iam:PassRole"}), PASS_ROLE),
    ),
    "iam:CreateRole": (Checked(frozenset({"iam:TagRole"}), IAM_TAG_ON_CREATE),),
    "logs:CreateLogGroup": (
        Checked(frozenset({"logs:TagResource", "logs:TagLogGroup"}), LOGS_CREATE_LOG_GROUP),
    ),
    "scheduler:CreateSchedule": (Checked(frozenset({"iam:PassRole"}), SCHEDULER_EXECUTION_ROLE),),
    "scheduler:UpdateSchedule": (Checked(frozenset({"iam:PassRole"}), SCHEDULER_EXECUTION_ROLE),),
}

#: The service each service-linked role is created for, by the call that creates it: the role
#: may create only that one (condition iam:AWSServiceName).
SERVICE_LINKED_ROLES: Final = {
    "elasticloadbalancing:CreateLoadBalancer": "elasticloadbalancing.amazonaws.com",
    "ecs:CreateCluster": "ecs.amazonaws.com",
}


def checked_on_caller(calls: set[str]) -> set[str]:
    """Everything AWS checks on the caller of `calls`, besides the calls themselves."""
    return {
        permission
        for call in calls
        for checked in CHECKED_ON_CALLER.get(call, ())
        for permission in checked.permissions
    }
