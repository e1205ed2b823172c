"""Bounds the teardown derives from an environment's own settings."""

from __future__ import annotations

from fargate_env import lifecycle
from fargate_env import spec as spec_model


def test_teardown_waits_are_bounded_after_the_environment_drain_time():
    quick = spec_model.normalise(spec_model.parse({"name": "quick"}))
    slow = spec_model.normalise(
        spec_model.parse(
            {
                "name": "slow",
                "container": {"stop_timeout_seconds": 120},
                "load_balancers": [
                    {"id": "a"},
                    {"id": "b", "target_group": {"deregistration_delay_seconds": 3600}},
                ],
            }
        )
    )

    assert lifecycle.teardown_polls(None) == lifecycle.DEFAULT_TEARDOWN_POLLS
    assert lifecycle.teardown_polls(quick) == lifecycle.DEFAULT_TEARDOWN_POLLS
    # the slowest load balancer's drain + the stop timeout + 10 minutes, in 5 s looks
    assert lifecycle.teardown_polls(slow) == (3600 + 120 + 600) // 5
