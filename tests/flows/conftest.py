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


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmbeddedAWS]:
    with EmbeddedAWS() as aws:
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
