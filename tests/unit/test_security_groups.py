"""The rules between the load balancers and the tasks: listener ports from the ingress CIDRs to
each load balancer; to the tasks, only the container port, only from the load balancers."""

from __future__ import annotations

import boto3

from fargate_env import network, security_groups
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
