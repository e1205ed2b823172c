"""The endpoint check for every scheme and CIDR list the spec allows, on the embedded AWS, whose
load balancers admit callers as AWS does: an internal load balancer only from inside its VPC, a
listener only from its CIDRs (or from a group it names). Without the endpoint probe the check
falls back to target health; with it, the probe GETs the load balancer from inside the VPC."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from embedded_aws.emulator import EmbeddedAWS
from embedded_aws.faults import Faults
from fargate_env import endpoint

#: The README's fuller example's internal NLB, and an ALB open to one office range.
INTERNAL_NLB = {
    "id": "tcp",
    "type": "network",
    "scheme": "internal",
    "ingress_cidrs": ["10.0.0.0/8"],
}
OFFICE_ALB = {"id": "web", "ingress_cidrs": ["192.0.2.0/24"]}
#: The variables CloudFormation leaves empty when the deployment has no probe.
PROBE_VARIABLES = {
    "VerifyEndpointFunction": "PROBE_FUNCTION_NAME",
    "CreateSecurityGroupsFunction": "PROBE_SECURITY_GROUP_ID",
}


@contextlib.contextmanager
def without_the_probe(aws: EmbeddedAWS) -> Iterator[None]:
    """The deployment as the template makes it without ProbeVpcId/ProbeSubnetIds: the steps'
    probe variables empty (the condition HasEndpointProbe false)."""
    functions = aws.client("lambda")
    saved = {}
    for logical_id, variable in PROBE_VARIABLES.items():
        name = aws.physical[logical_id].split(":")[-1]
        current = functions.get_function_configuration(FunctionName=name)["Environment"]
        saved[name] = current
        blank = {"Variables": {**current["Variables"], variable: ""}}
        functions.update_function_configuration(FunctionName=name, Environment=blank)
    try:
        yield
    finally:
        for name, environment in saved.items():
            functions.update_function_configuration(FunctionName=name, Environment=environment)


@pytest.fixture(params=["without probe", "with probe"])
def deployment(request, embedded) -> Iterator[tuple[EmbeddedAWS, str]]:
    """(the emulator, the check internal and CIDR-restricted load balancers get)."""
    if request.param == "with probe":
        yield embedded, "http-from-vpc"
    else:
        with without_the_probe(embedded):
            yield embedded, "target-health"


def checks(provision: Any) -> dict[str, dict[str, Any]]:
    return {check["id"]: check for check in provision.output["verification"]}


def test_nothing_outside_the_vpc_reaches_internal_or_cidr_restricted_load_balancers(
    embedded, env_name
):
    # Given the README's internal NLB and an ALB open to one office range, provisioned
    provision = embedded.provision({"name": env_name, "load_balancers": [INTERNAL_NLB, OFFICE_ALB]})
    assert provision.status == "SUCCEEDED", provision.cause

    # When a caller outside the VPC GETs them / Then nothing answers (AWS drops the packets)
    for check in provision.output["verification"]:
        assert endpoint.get(check["url"], timeout=1)["status"] is None, check["url"]
    assert embedded.teardown(env_name).status == "SUCCEEDED"


def test_internal_and_cidr_restricted_load_balancers_become_ready(deployment, env_name):
    aws, check = deployment
    spec = {"name": env_name, "load_balancers": [INTERNAL_NLB, OFFICE_ALB, {"id": "pub"}]}

    provision = aws.provision(spec)

    assert provision.status == "SUCCEEDED", provision.cause
    found = checks(provision)
    assert {key: item["check"] for key, item in found.items()} == {
        "tcp": check,
        "web": check,
        "pub": "http",
    }
    assert found["pub"]["status"] == 200
    assert all(item["healthy_targets"] == 1 for item in found.values())
    if check == "http-from-vpc":
        assert (found["tcp"]["status"], found["web"]["status"]) == (200, 200)
    else:
        assert "target health only" in found["tcp"]["note"]
    teardown = aws.teardown(env_name)
    assert teardown.status == "SUCCEEDED", teardown.cause
    assert aws.remaining(env_name) == []


def test_a_broken_page_behind_healthy_targets_fails_the_check_from_inside_the_vpc(
    embedded, env_name
):
    # Given containers answering 500 behind the internal NLB, whose TCP check finds them healthy
    embedded.reconfigure(faults=Faults(container_status=500))

    provision = embedded.provision({"name": env_name, "load_balancers": [INTERNAL_NLB]})

    # Then the check from inside the VPC fails the provisioning, naming the URL and the answer,
    # and the rollback leaves nothing
    assert provision.status == "FAILED"
    cause = json.loads(provision.cause)
    assert cause["failed_step"] == "Verify the endpoint answers"
    assert cause["error"] == "EndpointCheckFailed"
    assert "(load balancer tcp, http-from-vpc check)" in cause["message"]
    assert "HTTP 500" in cause["message"]
    assert embedded.remaining(env_name) == []
