"""`make bench`'s shared-mode scale run, small: environments started at the same moment fill
gateways up to the cap, none collides, and all are torn down at the same moment, none left."""

from __future__ import annotations

from embedded_aws import bench


def test_the_scale_run_adds_gateways_at_the_cap_and_leaves_nothing() -> None:
    run = bench.measure_scale(count=3, cap=2)

    assert (run.environments, run.succeeded, run.torn_down) == (3, 3, 3)
    assert run.gateways == 2  # two at the cap of 2, so a second gateway for the third
    assert run.collisions == 0
    assert run.left == 0
    assert 0 < run.p50_to_url <= run.p95_to_url
