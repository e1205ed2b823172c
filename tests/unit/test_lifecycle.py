"""Bounds the teardown derives from an environment's own settings."""

from __future__ import annotations

from fargate_env import bounds, lifecycle
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

    assert lifecycle.teardown_polling(None) == (bounds.TEARDOWN_POLL_SECONDS, 180)
    assert lifecycle.teardown_polling(quick) == (bounds.TEARDOWN_POLL_SECONDS, 180)
    # the slowest load balancer's drain + the stop timeout + 10 minutes: 4,320 s, which 5 s
    # looks would take 864 times per wait; within the history budget it is 393 looks 11 s apart
    slow_polling = lifecycle.teardown_polling(slow)
    assert slow_polling == (11, 393)
    assert slow_polling.interval_seconds * slow_polling.max_polls >= 3600 + 120 + 600
    assert slow_polling.max_polls <= bounds.TEARDOWN_MAX_POLLS
