"""Shared mode with a domain on the embedded AWS: each environment is https://<name>.<domain>, a
host-header rule on its gateway's HTTPS listener (the wildcard certificate), the gateway's
HTTP listener redirecting to HTTPS, the alias records in the deployment's hosted zone.

DNS for the domain resolves nowhere offline: the checks (and these tests) connect to the
gateway's own DNS name with the environment's host name as Host header, as the endpoint check
does on AWS while a new record propagates."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from embedded_aws import prerequisites
from embedded_aws.emulator import EmbeddedAWS
from fargate_env import endpoint
from tests.flows.conftest import (
    deployment_settings,
    failed_events_queue,
    gateway_items,
    probe_in_the_default_vpc,
    provision_at_once,
    slots_held,
)

DOMAIN = "preview.example.test"
#: The module's deploy: its Gateway* template parameters.
DEPLOYED: dict[str, str] = {}


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedAWS]:
    """The application deployed with GatewayDomain, its wildcard certificate (ACM) and its
    hosted zone (Route 53), made in the account before the deploy as a user would."""
    directory = tmp_path_factory.mktemp("domain")

    def parameters(aws: EmbeddedAWS) -> dict[str, str]:
        DEPLOYED.update(prerequisites.gateway_domain(aws, DOMAIN, directory))
        return {**probe_in_the_default_vpc(aws), **DEPLOYED}

    with EmbeddedAWS(parameters=parameters) as aws:
        failed_events_queue(aws)
        yield aws


def shared(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "mode": "shared", **fields}


def gateway_of(aws: EmbeddedAWS, env: str) -> dict[str, Any]:
    return next(item for item in gateway_items(aws) if env in item["members"].values())


def through_gateway(aws: EmbeddedAWS, env: str, host: str | None = None) -> dict[str, Any]:
    """GET https://<the gateway's DNS name>/ with Host <env>.<domain> (or `host`)."""
    dns_name = gateway_of(aws, env)["resources"]["dns_name"]
    return endpoint.get(f"https://{dns_name}/", timeout=5, host=host or f"{env}.{DOMAIN}")


def records(aws: EmbeddedAWS) -> dict[str, str]:
    """The deployed hosted zone's alias records: name -> the DNS name it points at."""
    zone = DEPLOYED["GatewayHostedZoneId"]
    found = aws.client("route53").list_resource_record_sets(HostedZoneId=zone)
    return {
        item["Name"].rstrip(".").replace("\\052", "*"): item["AliasTarget"]["DNSName"].rstrip(".")
        for item in found["ResourceRecordSets"]
        if item.get("AliasTarget")
    }


def https_rules(aws: EmbeddedAWS, gateway: dict[str, Any]) -> dict[str, int]:
    """The host names of the rules on the gateway's HTTPS listener -> their priorities."""
    listener = gateway["resources"]["listeners"]["443"]
    rules = aws.client("elbv2").describe_rules(ListenerArn=listener)["Rules"]
    return {
        value: int(rule["Priority"])
        for rule in rules
        if not rule["IsDefault"]
        for condition in rule["Conditions"]
        if condition["Field"] == "host-header"
        for value in condition["HostHeaderConfig"]["Values"]
    }


def test_two_environments_answer_as_themselves_on_one_https_listener(
    embedded: EmbeddedAWS, env_name
):
    first, second = f"{env_name[:14]}-a", f"{env_name[:14]}-b"

    # When two environments are created in shared mode on a deployment with a domain
    made = [embedded.provision(shared(first)), embedded.provision(shared(second))]

    # Then each is https://<name>.<domain>, checked through the gateway with its host name
    assert [execution.status for execution in made] == ["SUCCEEDED"] * 2, [
        execution.cause for execution in made
    ]
    assert [execution.output["url"] for execution in made] == [
        f"https://{first}.{DOMAIN}/",
        f"https://{second}.{DOMAIN}/",
    ]
    checks = [execution.output["verification"][0] for execution in made]
    assert [check.get("environment") for check in checks] == [first, second]
    # ... both host-header rules on one HTTPS listener of one gateway, at different priorities
    gateway = gateway_of(embedded, first)
    assert gateway["gateway_id"] == gateway_of(embedded, second)["gateway_id"]
    rules = https_rules(embedded, gateway)
    assert {f"{first}.{DOMAIN}", f"{second}.{DOMAIN}"} <= set(rules)
    assert rules[f"{first}.{DOMAIN}"] != rules[f"{second}.{DOMAIN}"]
    # ... each host answering as its own environment, an unknown host 404, HTTP redirected
    assert through_gateway(embedded, first).get("environment") == first
    assert through_gateway(embedded, second).get("environment") == second
    assert through_gateway(embedded, first, host=f"nobody.{DOMAIN}")["status"] == 404
    plain = endpoint.get(f"http://{gateway['resources']['dns_name']}/", timeout=5)
    assert plain["status"] == 301
    # ... and the hosted zone's wildcard points at the first gateway (no record per environment)
    zone = records(embedded)
    if gateway["gateway_id"] == "e1":
        assert zone[f"*.{DOMAIN}"] == gateway["resources"]["dns_name"]
        assert f"{first}.{DOMAIN}" not in zone

    # When the first is torn down
    assert embedded.teardown(first).status == "SUCCEEDED"

    # Then its rule and everything of it is gone, the second still answers as itself
    assert embedded.remaining(first) == []
    assert slots_held(embedded, first) == []
    assert f"{first}.{DOMAIN}" not in https_rules(embedded, gateway)
    assert through_gateway(embedded, second).get("environment") == second
    assert through_gateway(embedded, second, host=f"{first}.{DOMAIN}")["status"] == 404
    assert embedded.teardown(second).status == "SUCCEEDED"
    assert embedded.remaining(second) == []
    # The gateway's own listeners and the wildcard stay (they are the gateway's, not theirs)
    assert set(gateway_items(embedded)[0]["resources"]["listeners"]) == {"80", "443"}
    assert f"*.{DOMAIN}" in records(embedded)


def test_an_environment_on_another_gateway_gets_its_own_record(embedded: EmbeddedAWS, env_name):
    # Given gateways of one environment each
    names = [f"{env_name[:14]}-{index}" for index in range(2)]
    with deployment_settings(embedded, GATEWAY_MAX_ENVIRONMENTS="1"):
        # When two environments are created at once
        made = provision_at_once(embedded, [shared(name) for name in names])
        assert [execution.status for execution in made] == ["SUCCEEDED"] * 2, [
            execution.cause for execution in made
        ]

        # Then they are on two gateways; one not on the wildcard's gateway has an alias record
        # of its own name to its gateway (a name more specific than the wildcard wins)
        placed = {name: gateway_of(embedded, name) for name in names}
        assert len({gateway["gateway_id"] for gateway in placed.values()}) == 2
        zone = records(embedded)
        for name, gateway in placed.items():
            own = zone.get(f"{name}.{DOMAIN}")
            if gateway["gateway_id"] == "e1":
                assert own is None
            else:
                assert own == gateway["resources"]["dns_name"]
            assert through_gateway(embedded, name).get("environment") == name

        # And torn down, their records go with them
        for name in names:
            assert embedded.teardown(name).status == "SUCCEEDED"
            assert embedded.remaining(name) == []
    assert not any(f"{name}.{DOMAIN}" in records(embedded) for name in names)


def test_without_a_hosted_zone_no_record_is_written(embedded: EmbeddedAWS, env_name):
    before = records(embedded)
    with deployment_settings(embedded, GATEWAY_HOSTED_ZONE_ID="", GATEWAY_MAX_ENVIRONMENTS="1"):
        # When an environment is created (on a gateway of its own: the cap is 1)
        made = embedded.provision(shared(env_name))

        # Then it is https://<name>.<domain>, answering through its gateway; the zone untouched
        assert made.status == "SUCCEEDED", made.cause
        assert made.output["url"] == f"https://{env_name}.{DOMAIN}/"
        assert through_gateway(embedded, env_name).get("environment") == env_name
        assert records(embedded) == before
        assert embedded.teardown(env_name).status == "SUCCEEDED"
    assert embedded.remaining(env_name) == []
    assert records(embedded) == before


def test_a_hosted_zone_added_after_the_first_gateway_gets_the_wildcard_at_the_next_creation(
    embedded: EmbeddedAWS, env_name
):
    # Given a first gateway made while the deployment had no hosted zone
    with deployment_settings(embedded, GATEWAY_HOSTED_ZONE_ID=""):
        assert embedded.provision(shared(f"{env_name[:14]}-a")).status == "SUCCEEDED"
    gateway = gateway_of(embedded, f"{env_name[:14]}-a")
    assert gateway["gateway_id"] == "e1"  # the gateway that holds the wildcard
    zone = DEPLOYED["GatewayHostedZoneId"]
    if f"*.{DOMAIN}" in records(embedded):  # an earlier test's creation wrote it: as if not
        route53 = embedded.client("route53")
        [held] = [
            item
            for item in route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
            if item["Name"].rstrip(".").replace("\\052", "*") == f"*.{DOMAIN}"
        ]
        change = {"Action": "DELETE", "ResourceRecordSet": held}
        route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [change]})
    assert f"*.{DOMAIN}" not in records(embedded)

    # When the deployment has its hosted zone and the next environment is created on the gateway
    second = f"{env_name[:14]}-b"
    assert embedded.provision(shared(second)).status == "SUCCEEDED"

    # Then the wildcard points at the gateway, and no record of its own name is written
    assert gateway_of(embedded, second)["gateway_id"] == "e1"
    assert records(embedded)[f"*.{DOMAIN}"] == gateway["resources"]["dns_name"]
    assert f"{second}.{DOMAIN}" not in records(embedded)
    for name in (f"{env_name[:14]}-a", second):
        assert embedded.teardown(name).status == "SUCCEEDED"
        assert embedded.remaining(name) == []


def test_a_priority_taken_outside_fargate_env_is_skipped_and_concurrent_ones_never_collide(
    embedded: EmbeddedAWS, env_name
):
    # Given a gateway whose two lowest free priorities hold rules fargate-env did not make
    first = f"{env_name[:14]}-a"
    assert embedded.provision(shared(first)).status == "SUCCEEDED"
    gateway = gateway_of(embedded, first)
    listener = gateway["resources"]["listeners"]["443"]
    held = set(gateway["members"]) | set(gateway["blocked"])
    free = [slot for slot in range(100) if f"s{slot:03d}" not in held][:2]
    elbv2 = embedded.client("elbv2")
    foreign = [
        elbv2.create_rule(
            ListenerArn=listener,
            Priority=slot + 1,
            Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": ["x.test"]}}],
            Actions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "418"}}],
        )["Rules"][0]["RuleArn"]
        for slot in free
    ]

    # When four more environments are created at the same moment
    names = [f"{env_name[:14]}-{index}" for index in range(4)]
    made = provision_at_once(embedded, [shared(name) for name in names])

    # Then every one succeeds at its own priority (PriorityInUse moved it: blocked, not fatal),
    # answering as itself
    assert [execution.status for execution in made] == ["SUCCEEDED"] * 4, [
        execution.cause for execution in made
    ]
    rules = https_rules(embedded, gateway)
    mine = [rules[f"{name}.{DOMAIN}"] for name in [first, *names] if f"{name}.{DOMAIN}" in rules]
    assert len(mine) == len(set(mine))
    assert not {slot + 1 for slot in free} & set(mine)
    assert set(gateway_of(embedded, first)["blocked"]) >= {f"s{slot:03d}" for slot in free}
    for name in names:
        assert through_gateway(embedded, name).get("environment") == name

    for name in [first, *names]:
        assert embedded.teardown(name).status == "SUCCEEDED"
        assert embedded.remaining(name) == []
    for arn in foreign:
        elbv2.delete_rule(RuleArn=arn)


@pytest.mark.parametrize(
    ("setting_name", "value", "why"),
    [
        ("GATEWAY_CERTIFICATE_ARN", "other-domain", "not *.preview.example.test"),
        ("GATEWAY_HOSTED_ZONE_ID", "other-zone", "cannot hold records of"),
        ("GATEWAY_CERTIFICATE_ARN", "", "required with GatewayDomain"),
    ],
)
def test_a_wrong_certificate_or_hosted_zone_is_refused_before_anything_is_created(
    embedded: EmbeddedAWS, env_name, tmp_path, setting_name, value, why
):
    # Given a deployment whose certificate or hosted zone is not for its domain
    if value == "other-domain":
        value = prerequisites.gateway_domain(embedded, "other.example.test", tmp_path)[
            "GatewayCertificateArn"
        ]
    elif value == "other-zone":
        zone = embedded.client("route53").create_hosted_zone(
            Name=f"{env_name}.example.org", CallerReference=env_name
        )
        value = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
    before = gateway_items(embedded)
    with deployment_settings(embedded, **{setting_name: value}):
        # When an environment is created in shared mode
        made = embedded.provision(shared(env_name))

    # Then it fails naming the setting, before anything (a gateway included) is created
    assert made.status == "FAILED"
    assert made.cause_json()["failed_step"] == "Check the network and prerequisites"
    parameter = "".join(part.title() for part in setting_name.lower().split("_"))
    assert parameter in made.cause_json()["message"], made.cause_json()
    assert why in made.cause_json()["message"]
    assert embedded.remaining(env_name) == []
    assert gateway_items(embedded) == before
