"""The same run gives the same simulated times: what lets the benchmark compare figures."""

from __future__ import annotations

from embedded_aws.emulator import EmbeddedAWS
from embedded_aws.faults import Faults
from tests.flows.conftest import REAL


def run_once(embedded: EmbeddedAWS, env: str) -> tuple[float, float, int]:
    embedded.reconfigure(model=REAL, faults=Faults(seed=3))
    embedded.runner.invocations.clear()  # every function cold again, as in a fresh deployment
    before = embedded.counters.transitions
    provision = embedded.provision({"name": env})
    teardown = embedded.teardown(env)
    assert provision.status == teardown.status == "SUCCEEDED"
    return provision.duration, teardown.duration, embedded.counters.transitions - before


def test_the_same_run_twice_gives_the_same_times(embedded, env_name):
    stem = env_name[:12].rstrip("-")
    first = run_once(embedded, f"{stem}-a")
    second = run_once(embedded, f"{stem}-b")

    # To the millisecond: execution timestamps have millisecond resolution, so two equal runs
    # starting at different moments may round to durations one millisecond apart.
    assert abs(first[0] - second[0]) <= 0.0011
    assert abs(first[1] - second[1]) <= 0.0011
    assert first[2] == second[2]
    assert first[0] > 150  # AWS's latencies were in play (the ALB alone takes ~150 s)
