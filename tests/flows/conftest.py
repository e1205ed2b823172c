"""The flows run on the embedded AWS: the real template deployed into moto, the real ASL executed
by moto's interpreter, the real handlers answering each Lambda invocation. One emulator serves
the whole session (a deploy costs ~2 s); each test gets its own environment name, its own faults
and its latency model."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

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
