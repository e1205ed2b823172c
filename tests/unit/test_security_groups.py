"""The rules between the load balancers and the tasks: listener ports from the ingress CIDRs to
each load balancer; to the tasks, only the container port, only from the load balancers."""

from __future__ import annotations

import boto3
import pytest

from fargate_env import ingress, network, security_groups
from fargate_env import spec as spec_model


def rules(group_id: str) -> list[dict]:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    return ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]["IpPermissions"]


def test_load_balancers_admit_their_listeners_and_tasks_only_the_load_balancers(aws):
    spec = spec_model.normalise(
        spec_model.parse(
            {
                "name": "rules",
                "container": {"port": 8080},
                "load_balancers": [
                    {
                        "id": "web",
                        "ingress_cidrs": ["10.0.0.0/8", "2001:db8::/32"],
                        "listeners": [{"port": 80, "protocol": "HTTP"}],
                    },
                    {
                        "id": "tcp",
                        "type": "network",
                        "ingress_cidrs": ["192.0.2.0/24"],
                        "target_group": {"health_check": {"port": "9000"}},
                    },
                ],
            }
        )
    )
    groups = security_groups.create_for_environment(spec, network.resolve(spec))

    web = rules(groups["load_balancers"]["web"])
    assert [(r["FromPort"], r["ToPort"]) for r in web] == [(80, 80)]
    assert {r["CidrIp"] for r in web[0]["IpRanges"]} == {"10.0.0.0/8"}
    assert {r["CidrIpv6"] for r in web[0]["Ipv6Ranges"]} == {"2001:db8::/32"}
    tcp = rules(groups["load_balancers"]["tcp"])
    assert [(r["FromPort"], {x["CidrIp"] for x in r["IpRanges"]}) for r in tcp] == [
        (80, {"192.0.2.0/24"})
    ]

    tasks = rules(groups["tasks"])
    sources = {(r["FromPort"], pair["GroupId"]) for r in tasks for pair in r["UserIdGroupPairs"]}
    lbs = set(groups["load_balancers"].values())
    # the container port from both load balancers, the separate health-check port too
    assert sources == {(port, g) for port in (8080, 9000) for g in lbs}
    assert all(not r.get("IpRanges") and not r.get("Ipv6Ranges") for r in tasks)


@pytest.fixture
def authorize_calls(aws) -> list[dict]:
    """Every AuthorizeSecurityGroupIngress request the library makes."""
    from fargate_env.aws import client

    calls: list[dict] = []
    client("ec2").meta.events.register(
        "provide-client-params.ec2.AuthorizeSecurityGroupIngress",
        lambda params, **kwargs: calls.append(params),
    )
    return calls


def many_rules_spec(scheme: str = "internet-facing") -> dict:
    cidrs = ["0.0.0.0/0", "10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32"]
    listeners = [{"port": port, "protocol": "HTTP"} for port in (80, 8080, 8081)]
    lb = {"id": "web", "scheme": scheme, "ingress_cidrs": cidrs, "listeners": listeners}
    return spec_model.normalise(spec_model.parse({"name": "rules", "load_balancers": [lb]}))


def rule_count(group_id: str) -> int:
    return sum(
        len(r.get("IpRanges", [])) + len(r.get("Ipv6Ranges", [])) + len(r["UserIdGroupPairs"])
        for r in rules(group_id)
    )


def test_each_group_gets_all_its_rules_in_one_call_and_none_when_it_has_them(authorize_calls):
    # Given a load balancer with 3 listener ports open to 4 CIDRs (12 rules)
    spec = many_rules_spec()
    resolved = network.resolve(spec)

    # When the groups are created
    groups = security_groups.create_for_environment(spec, resolved)

    # Then each group was authorised once, with every rule
    assert sorted(call["GroupId"] for call in authorize_calls) == sorted(
        [groups["load_balancers"]["web"], groups["tasks"]]
    )
    assert rule_count(groups["load_balancers"]["web"]) == 12

    # When the step runs again, it adds nothing and asks nothing
    authorize_calls.clear()
    assert security_groups.create_for_environment(spec, resolved) == groups
    assert authorize_calls == []


def test_a_group_missing_some_rules_gets_only_those(authorize_calls):
    spec = many_rules_spec()
    resolved = network.resolve(spec)
    groups = security_groups.create_for_environment(spec, resolved)
    web = groups["load_balancers"]["web"]
    ec2 = boto3.client("ec2", region_name="us-east-1")
    ec2.revoke_security_group_ingress(
        GroupId=web,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [{"CidrIp": c}]}
            for c in ("10.0.0.0/8", "192.0.2.0/24")
        ],
    )
    authorize_calls.clear()

    security_groups.create_for_environment(spec, resolved)

    [call] = authorize_calls
    assert call["GroupId"] == web
    assert [
        (p["FromPort"], [r["CidrIp"] for r in p["IpRanges"]]) for p in call["IpPermissions"]
    ] == [(8080, ["10.0.0.0/8", "192.0.2.0/24"])]
    assert rule_count(web) == 12


@pytest.fixture
def probe_group(aws, monkeypatch) -> str:
    """A deployment with an endpoint probe in the default VPC."""
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    group = ec2.create_security_group(GroupName="probe", Description="probe", VpcId=vpc["VpcId"])[
        "GroupId"
    ]
    monkeypatch.setenv(ingress.PROBE_SECURITY_GROUP_ENV, group)
    monkeypatch.setenv(ingress.PROBE_VPC_ENV, vpc["VpcId"])
    return group


@pytest.mark.parametrize(
    ("lb", "admits_probe"),
    [
        ({"id": "int", "scheme": "internal", "ingress_cidrs": ["0.0.0.0/0"]}, True),
        ({"id": "lim", "ingress_cidrs": ["192.0.2.0/24"]}, True),
        ({"id": "pub"}, False),
    ],
)
def test_only_load_balancers_the_verify_step_cannot_reach_admit_the_probe(
    probe_group, lb, admits_probe
):
    spec = spec_model.normalise(spec_model.parse({"name": "probe", "load_balancers": [lb]}))

    groups = security_groups.create_for_environment(spec, network.resolve(spec))

    pairs = {
        (r["FromPort"], pair["GroupId"])
        for r in rules(groups["load_balancers"][lb["id"]])
        for pair in r["UserIdGroupPairs"]
    }
    assert pairs == ({(80, probe_group)} if admits_probe else set())


def test_a_probe_in_another_vpc_is_never_named(probe_group, monkeypatch):
    monkeypatch.setenv(ingress.PROBE_VPC_ENV, "vpc-0123456789abcdef0")
    lb = {"id": "int", "scheme": "internal"}
    spec = spec_model.normalise(spec_model.parse({"name": "probe", "load_balancers": [lb]}))

    groups = security_groups.create_for_environment(spec, network.resolve(spec))

    assert all(not r["UserIdGroupPairs"] for r in rules(groups["load_balancers"]["int"]))


def test_groups_still_in_use_ask_for_a_retry_and_say_how_to_resume(aws, monkeypatch):
    # Given the environment's groups, and EC2 refusing to delete one still used by an ENI
    from botocore.exceptions import ClientError

    from fargate_env.aws import client
    from fargate_env.errors import ResourceNotReady

    spec = spec_model.normalise(spec_model.parse({"name": "eni"}))
    groups = security_groups.create_for_environment(spec, network.resolve(spec))
    ec2 = client("ec2")
    real_delete = ec2.delete_security_group

    def delete(GroupId: str) -> dict:
        if GroupId == groups["load_balancers"]["web"]:
            error = {"Code": "DependencyViolation", "Message": "has a dependent object"}
            raise ClientError({"Error": error}, "DeleteSecurityGroup")
        return dict(real_delete(GroupId=GroupId))

    monkeypatch.setattr(ec2, "delete_security_group", delete)

    # When the teardown deletes them / Then the free one goes, the busy one is retried, and
    # the message tells what to do when the retries run out
    with pytest.raises(ResourceNotReady) as raised:
        security_groups.delete_for_environment("eni", list(groups["load_balancers"].values()))
    message = str(raised.value)
    assert groups["load_balancers"]["web"] in message
    assert f"deleted so far: {groups['tasks']}" in message
    assert "start the teardown of eni again" in message
