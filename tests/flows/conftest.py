"""The flows run on the embedded AWS: the real template deployed into moto, the real ASL executed
by moto's interpreter, the real handlers answering each Lambda invocation. One emulator serves
the whole session (a deploy costs ~2 s); each test gets its own environment name, its own faults
and its latency model."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from embedded_aws.emulator import EmbeddedAWS
from embedded_aws.faults import Faults
from embedded_aws.latency import LatencyModel

#: AWS's figures (latency_model.json) - the realistic runs.
REAL = LatencyModel.load()
#: Every figure a tenth: the same behaviour in fewer polls, for tests about correctness.
FAST = REAL.scaled(0.1)


def probe_in_the_default_vpc(aws: EmbeddedAWS) -> dict[str, str]:
    """Template parameters deploying the endpoint probe in the default VPC (two subnets)."""
    ec2 = aws.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
    ids = sorted(subnet["SubnetId"] for subnet in subnets["Subnets"])[:2]
    return {"ProbeVpcId": vpc["VpcId"], "ProbeSubnetIds": ",".join(ids)}


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmbeddedAWS]:
    """The application deployed with the optional endpoint probe (in the default VPC)."""
    with EmbeddedAWS(parameters=probe_in_the_default_vpc) as aws:
        yield aws


@pytest.fixture
def embedded(emulator: EmbeddedAWS) -> Iterator[EmbeddedAWS]:
    """The emulator with no faults and the fast model; tests reconfigure it as they need."""
    emulator.reconfigure(model=FAST, faults=Faults())
    yield emulator
    emulator.reconfigure(model=FAST, faults=Faults())


@pytest.fixture
def env_name(request: pytest.FixtureRequest) -> str:
    """A short environment name unique to the test (ELBv2 names leave 20 characters)."""
    digest = hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:6]
    stem = re.sub(r"[^a-z0-9]", "", request.node.name.lower())[:11] or "t"
    return f"{stem}-{digest}" if stem[0].isalpha() else f"t{stem[:10]}-{digest}"


def gateway_items(aws: EmbeddedAWS) -> list[dict[str, Any]]:
    """The registry's gateway items (shared mode), deserialised."""
    from boto3.dynamodb.types import TypeDeserializer

    table = aws.physical["RegistryTable"]
    items = aws.client("dynamodb").scan(TableName=table, ConsistentRead=True)["Items"]
    plain = [{k: TypeDeserializer().deserialize(v) for k, v in item.items()} for item in items]
    gateways = [item for item in plain if item.get("kind") == "gateway"]
    for item in gateways:
        if isinstance(item.get("resources"), str):
            item["resources"] = json.loads(item["resources"])
    return gateways


def foreign_listener(aws: EmbeddedAWS, port: int) -> str:
    """A listener on `port` of the first gateway, made outside fargate-env (untagged)."""
    arn = gateway_items(aws)[0]["resources"]["arn"]
    action = {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "418"}}
    created = aws.client("elbv2").create_listener(
        LoadBalancerArn=arn, Protocol="HTTP", Port=port, DefaultActions=[action]
    )
    return str(created["Listeners"][0]["ListenerArn"])


def slots_held(aws: EmbeddedAWS, env: str) -> list[str]:
    """The gateway slots `env` holds: none once it is torn down or rolled back."""
    return [
        f"{item['gateway_id']}/{slot}"
        for item in gateway_items(aws)
        for slot, member in (item.get("members") or {}).items()
        if member == env
    ]
