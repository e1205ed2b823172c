"""The benchmark's machinery (not its speed): the floor, the clock, the timeline."""

from __future__ import annotations

import datetime
import threading

import pytest

from embedded_aws.clock import LogicalClock
from embedded_aws.floor import create_floor, floor
from embedded_aws.latency import LatencyModel
from embedded_aws.patches import Patches
from embedded_aws.timeline import intervals
from fargate_env import spec as spec_model

SMALL = LatencyModel(
    alb_active_after=100,
    nlb_active_after=150,
    lb_eni_release_after_delete=60,
    health_checks_until_healthy=1,
    nlb_target_registration=80,
    task_provisioning=5,
    task_start=30,
    task_exit_after_sigterm=2,
    task_deprovisioning=5,
    task_eni_release_after_stop=20,
    task_replacement_after_failure=10,
    api_call=0.1,
    lambda_invoke=0.05,
    lambda_cold_start=0.5,
    state_transition=0.01,
)


def normalised(raw: dict) -> dict:
    return spec_model.normalise(spec_model.parse(raw))


def test_the_create_floor_is_the_slowest_load_balancer_plus_one_health_check():
    spec = normalised({"name": "floor"})  # ALB, health check every 10 s

    assert create_floor(spec, SMALL) == 100 + 10  # active at 100, task running at 30


def test_a_network_load_balancer_waits_for_target_registration():
    spec = normalised({"name": "floor", "load_balancers": [{"type": "network"}]})

    # running at 30, registered 80 s later (110) but the NLB is only active at 150
    assert create_floor(spec, SMALL) == 150 + 10


def test_the_threshold_counts_when_the_model_says_so():
    spec = normalised({"name": "floor"})
    strict = LatencyModel(**{**SMALL.__dict__, "health_checks_until_healthy": 5})

    assert create_floor(spec, strict) == 100 + 5 * 10


def test_the_teardown_floor_waits_for_the_last_network_interface():
    spec = normalised({"name": "floor"})  # deregistration 5 s, stop timeout 10 s

    result = floor(spec, SMALL)

    stopped = 5 + min(10, 2) + 5
    assert result.billing == stopped
    assert result.teardown == max(stopped + 20, 60)
    slow_drain = normalised(
        {
            "name": "floor",
            "load_balancers": [{"target_group": {"deregistration_delay_seconds": 300}}],
        }
    )
    assert floor(slow_drain, SMALL).teardown == 300 + 2 + 5 + 20


def test_scaling_the_model_scales_every_duration_but_the_check_count():
    scaled = SMALL.scaled(0.1)

    assert scaled.alb_active_after == pytest.approx(10)
    assert scaled.api_call == pytest.approx(0.01)
    assert scaled.health_checks_until_healthy == 1


def _fork_join(clock: LogicalClock) -> float:
    def branch(seconds: float) -> None:
        clock.sleep(seconds)

    clock.sleep(1)
    threads = [threading.Thread(target=branch, args=(s,)) for s in (30, 5, 12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    clock.sleep(2)
    return clock.now()


def test_the_logical_clock_overlaps_branches_and_joins_at_the_slowest():
    clock = LogicalClock()
    patches = Patches()
    clock.install(patches.set)
    try:
        first = _fork_join(clock)
        second = _fork_join(clock) - first
    finally:
        patches.undo()

    # 1 s, then three branches at once (the slowest takes 30 s), then 2 s: never 1+30+5+12+2
    assert first == pytest.approx(33)
    assert second == pytest.approx(33)  # deterministic: the same work, the same time


def test_timeline_intervals_follow_entered_and_exited_events():
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)

    def at(seconds: float) -> datetime.datetime:
        return start + datetime.timedelta(seconds=seconds)

    events = [
        {"type": "ExecutionStarted", "timestamp": at(0)},
        {"type": "TaskStateEntered", "timestamp": at(1), "stateEnteredEventDetails": {"name": "A"}},
        {"type": "WaitStateEntered", "timestamp": at(1), "stateEnteredEventDetails": {"name": "B"}},
        {"type": "WaitStateExited", "timestamp": at(11), "stateExitedEventDetails": {"name": "B"}},
        {"type": "TaskStateExited", "timestamp": at(4), "stateExitedEventDetails": {"name": "A"}},
        {
            "type": "FailStateEntered",
            "timestamp": at(12),
            "stateEnteredEventDetails": {"name": "F"},
        },
    ]

    assert sorted(intervals(events)) == [
        ("A", "Task", 1, 4),
        ("B", "Wait", 1, 11),
        ("F", "Fail", 12, 12),
    ]
