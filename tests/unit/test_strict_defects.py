"""Defects of issue #10 that only real AWS would show, held off by the strict embedded AWS.

Each test states what the library must do against moto with AWS's rules on (the `aws` fixture
applies them): before the fix, the strict rule named in the test's docstring refused what the
library asked."""

from __future__ import annotations

import boto3

from fargate_env import (
    execution_role,
    load_balancers,
    naming,
    network,
    preflight,
    security_groups,
    task_definition,
)
from fargate_env import spec as spec_model
from fargate_env.errors import InvalidSpec
from fargate_env.validation import validate
from tests.unit.test_strict_rules import default_subnets, second_subnet_in

REGION = "us-east-1"


def normalised(raw: dict) -> dict:
    return spec_model.normalise(spec_model.parse(raw))


def test_a_task_definition_with_the_most_user_tags_the_spec_allows_registers(deployment):
    """Defect 4 (issue #10): register() added fargate-env:fingerprint to the 48 user tags and our
    2: 51 tags, which ECS refuses (rule tags.ecs)."""
    tags = {f"team{i}": "x" for i in range(naming.MAX_USER_TAGS)}
    spec = normalised({"name": "tags", "tags": tags})

    role = execution_role.ensure(spec, "/fargate-env/tags")  # IAM's own tag limit holds too
    registered = task_definition.register(spec, "/fargate-env/tags", role["arn"])

    assert registered["revision"] == 1


def test_a_load_balancer_over_task_subnets_sharing_a_zone_is_created(aws):
    """Defect 5 (issue #10): the load balancer got every task subnet, two of them in one
    Availability Zone (rule elbv2.subnet-per-zone)."""
    by_zone = default_subnets()
    zone_a, zone_b = sorted(by_zone)[:2]
    subnets = [by_zone[zone_a], second_subnet_in(zone_a), by_zone[zone_b]]
    spec = normalised({"name": "zones", "network": {"subnet_ids": subnets}})
    resolved = network.resolve(spec)
    group = security_groups.create_for_environment(spec, resolved)["load_balancers"]["web"]

    created = load_balancers.ensure(spec, spec["load_balancers"][0], resolved, group)

    assert created["name"] == "fenv-zones-web"


def test_a_spec_over_the_security_group_rule_quota_is_refused_or_fits(aws):
    """Defect 6 (issue #10): 2 listeners x 31 CIDRs is 62 ingress rules on one group; the spec
    allowed it and EC2 refuses the 61st (rule ec2.rules-per-group)."""
    cidrs = [f"10.{i}.0.0/16" for i in range(31)]
    raw = {
        "name": "quota",
        "load_balancers": [
            {
                "ingress_cidrs": cidrs,
                "listeners": [
                    {"port": 80, "protocol": "HTTP"},
                    {"port": 8080, "protocol": "HTTP"},
                ],
            }
        ],
    }
    try:
        spec = validate({"spec": raw})["spec"]
    except InvalidSpec:
        return  # refused before anything is created, naming the field: also right

    security_groups.create_for_environment(spec, network.resolve(spec))


def test_an_iam_server_certificate_with_a_path_passes_preflight(aws):
    """Defect 3 (issue #10): preflight asked IAM for 'server-certificate/<path>/<name>', which
    IAM's name pattern refuses (rule iam.server-certificate-name)."""
    iam = boto3.client("iam", region_name=REGION)
    arn = iam.upload_server_certificate(
        ServerCertificateName="web", CertificateBody="pem", PrivateKey="key", Path="/team/"
    )["ServerCertificateMetadata"]["Arn"]
    https = {"port": 443, "protocol": "HTTPS", "certificate_arn": arn}
    spec = normalised({"name": "iam", "load_balancers": [{"listeners": [https]}]})

    assert preflight.check(spec)["vpc_id"]
