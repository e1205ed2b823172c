"""Shared mode on the embedded AWS: environments on a gateway (an ALB fargate-env shares), each
with its own target group and its own listener port; one torn down while the other answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from embedded_aws.emulator import EmbeddedAWS
from fargate_env import endpoint
from tests.flows.conftest import (
    deployment_settings,
    foreign_listener,
    gateway_items,
    provision_at_once,
    slots_held,
)


def shared(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "mode": "shared", **fields}


def answer(aws: EmbeddedAWS, url: str) -> dict[str, Any]:
    """A GET of `url` from this test: outside any VPC."""
    return endpoint.get(url, timeout=5)


def test_two_shared_environments_share_one_gateway_and_outlive_each_other(
    embedded: EmbeddedAWS, env_name
):
    first, second = f"{env_name[:14]}-a", f"{env_name[:14]}-b"

    # When two environments are provisioned in shared mode
    made = [embedded.provision(shared(first)), embedded.provision(shared(second))]

    # Then both succeed on one gateway load balancer, each at its own port, each answering as
    # itself (the stand-in names its environment; the check compared it)
    assert [execution.status for execution in made] == ["SUCCEEDED", "SUCCEEDED"], [
        execution.cause for execution in made
    ]
    urls = [execution.output["url"] for execution in made]
    hosts = {url.split("//")[1].split(":")[0] for url in urls}
    assert len(hosts) == 1, urls
    assert len(set(urls)) == 2, urls
    checks = [execution.output["verification"][0] for execution in made]
    assert [check.get("environment") for check in checks] == [first, second]
    for url, name in zip(urls, (first, second), strict=True):
        assert answer(embedded, url).get("environment") == name

    # When the first is torn down, the second answering as itself throughout
    running = embedded.start_execution(embedded.teardown_arn, {"name": first}, f"{first}-down")
    while (
        embedded.client("stepfunctions").describe_execution(executionArn=running)["status"]
        == "RUNNING"
    ):
        assert answer(embedded, urls[1]).get("environment") == second
    teardown = embedded.wait(running)

    # Then nothing of it is left, the gateway stays, and the second still answers as itself
    assert teardown.status == "SUCCEEDED", teardown.cause
    assert embedded.remaining(first) == []
    assert slots_held(embedded, first) == []
    assert len(gateway_items(embedded)) >= 1
    assert answer(embedded, urls[1]).get("environment") == second
    # (its listener is gone: no load balancer listens on its port any more)
    assert answer(embedded, urls[0])["status"] is None

    assert embedded.teardown(second).status == "SUCCEEDED"
    assert embedded.remaining(second) == []


def test_a_port_taken_outside_fargate_env_is_skipped_not_fatal(embedded: EmbeddedAWS, env_name):
    # Given a gateway with one environment, and the next port taken by a listener fargate-env
    # did not make
    first, second = f"{env_name[:14]}-a", f"{env_name[:14]}-b"
    made = embedded.provision(shared(first))
    assert made.status == "SUCCEEDED", made.cause
    taken = int(made.output["url"].rsplit(":", 1)[1].strip("/")) + 1
    foreign = foreign_listener(embedded, taken)

    # When another environment joins the gateway
    joined = embedded.provision(shared(second))

    # Then it succeeds on another port, the foreign listener untouched and its port blocked
    assert joined.status == "SUCCEEDED", joined.cause
    port = int(joined.output["url"].rsplit(":", 1)[1].strip("/"))
    assert port not in (taken, taken - 1)
    assert answer(embedded, joined.output["url"]).get("environment") == second
    gateway = gateway_items(embedded)[0]
    assert any("in use" in why or "listener" in why for why in gateway["blocked"].values())

    for name in (first, second):
        assert embedded.teardown(name).status == "SUCCEEDED"
        assert embedded.remaining(name) == []
    listeners = embedded.client("elbv2").describe_listeners(ListenerArns=[foreign])
    assert [item["Port"] for item in listeners["Listeners"]] == [taken]
    embedded.client("elbv2").delete_listener(ListenerArn=foreign)


@pytest.fixture
def gateway_cap(embedded: EmbeddedAWS) -> Iterator[int]:
    """GatewayMaxEnvironments at 3 for this test, as a deploy with that parameter would set it."""
    with deployment_settings(embedded, GATEWAY_MAX_ENVIRONMENTS="3"):
        yield 3


def test_environments_created_at_once_never_share_a_port_and_fill_new_gateways(
    embedded: EmbeddedAWS, env_name, gateway_cap
):
    # Given gateways that take 3 environments each
    names = [f"{env_name[:14]}-{index}" for index in range(8)]

    # When 8 environments are created at the same moment
    made = provision_at_once(embedded, [shared(name) for name in names])

    # Then every one succeeds at its own URL, answering as itself, never more than 3 on a
    # gateway (so at least 3 gateways), no two on one slot
    assert [execution.status for execution in made] == ["SUCCEEDED"] * 8, [
        execution.cause for execution in made if execution.status != "SUCCEEDED"
    ]
    urls = [execution.output["url"] for execution in made]
    assert len(set(urls)) == 8
    for url, name in zip(urls, names, strict=True):
        assert answer(embedded, url).get("environment") == name
    members = {
        item["gateway_id"]: [m for m in item["members"].values() if m in names]
        for item in gateway_items(embedded)
    }
    assert sorted(m for held in members.values() for m in held) == sorted(names)
    assert all(len(held) <= gateway_cap for held in members.values()), members
    assert len([held for held in members.values() if held]) >= 3

    # And all of them torn down at once leave nothing of theirs
    teardowns = [
        embedded.start_execution(embedded.teardown_arn, {"name": name}, f"{name}-down")
        for name in names
    ]
    assert [embedded.wait(arn).status for arn in teardowns] == ["SUCCEEDED"] * 8
    for name in names:
        assert embedded.remaining(name) == []
        assert slots_held(embedded, name) == []


def test_an_allow_list_admits_only_its_addresses_through_the_shared_gateway(
    embedded: EmbeddedAWS, env_name
):
    # Given one environment open to a network this test is not in, one to the one it is in
    # (the embedded AWS's callers outside any VPC come from 203.0.113.10)
    closed, open_ = f"{env_name[:14]}-c", f"{env_name[:14]}-o"
    specs = {closed: "198.51.100.0/24", open_: "203.0.113.0/28"}
    made = {
        name: embedded.provision(
            shared(name, load_balancers=[{"id": "web", "ingress_cidrs": [cidr]}])
        )
        for name, cidr in specs.items()
    }

    # Then both are ready (checked by their target group's health: the check is not among
    # their addresses), the gateway's group being open to all, their rules filtering: the one
    # answers 403, the other as itself
    for name, execution in made.items():
        assert execution.status == "SUCCEEDED", (name, execution.cause)
        assert execution.output["verification"][0]["check"] == "target-health"
    assert answer(embedded, made[closed].output["url"])["status"] == 403
    assert answer(embedded, made[open_].output["url"]).get("environment") == open_

    for name in specs:
        assert embedded.teardown(name).status == "SUCCEEDED"
        assert embedded.remaining(name) == []


def test_an_internal_environment_goes_on_an_internal_gateway_checked_from_inside_the_vpc(
    embedded: EmbeddedAWS, env_name
):
    # When an environment in shared mode asks for the internal scheme
    made = embedded.provision(shared(env_name, load_balancers=[{"scheme": "internal"}]))

    # Then it is placed on an internal gateway, and the probe inside the VPC got its page
    assert made.status == "SUCCEEDED", made.cause
    lb = made.output["resources"]["load_balancers"][0]
    assert lb["gateway"]["gateway_id"].startswith("i")
    check = made.output["verification"][0]
    assert (check["check"], check["status"], check.get("environment")) == (
        "http-from-vpc",
        200,
        env_name,
    )

    assert embedded.teardown(env_name).status == "SUCCEEDED"
    assert embedded.remaining(env_name) == []
