"""The embedded AWS's plugs into moto's Step Functions interpreter that are pure functions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from embedded_aws import plugs
from embedded_aws.clock import LogicalClock
from embedded_aws.patches import Patches


def test_a_definition_is_parsed_once_and_its_program_reused() -> None:
    calls: list[str] = []

    def parse(definition: str) -> tuple[Any, Any]:
        calls.append(definition)
        return object(), object()

    parse_once = plugs._parse_once(parse)
    first = parse_once('{"StartAt": "A", "unique": 1}')
    again = parse_once('{"StartAt": "A", "unique": 1}')
    other = parse_once('{"StartAt": "B", "unique": 1}')

    assert again is first
    assert other is not first
    assert calls == ['{"StartAt": "A", "unique": 1}', '{"StartAt": "B", "unique": 1}']


def test_a_definition_that_does_not_parse_is_refused_every_time() -> None:
    calls: list[str] = []

    def parse(definition: str) -> tuple[Any, Any]:
        calls.append(definition)
        raise ValueError("line 1:0 mismatched input")

    parse_once = plugs._parse_once(parse)
    for _ in range(2):
        with pytest.raises(ValueError, match="mismatched"):
            parse_once('{"broken": 2}')
    assert len(calls) == 2


@pytest.fixture
def logical_clock() -> Iterator[LogicalClock]:
    clock = LogicalClock()
    patches = Patches()
    clock.install(patches.set)
    yield clock
    patches.undo()


def _run_task(clock: LogicalClock, simulated: float, wall: float, timeout: float) -> bool:
    """moto's way of running a Task with a timeout, with the plug's replacements: True when the
    Task finished in time."""
    simulated_threading, task_thread = plugs._task_timeout_on_the_clock(clock)
    finished = simulated_threading.Event()

    def work() -> None:
        clock.sleep(simulated)
        time.sleep(wall)
        finished.set()

    task_thread(target=work, daemon=True).start()
    return bool(finished.wait(timeout))


def test_a_task_slow_in_wall_time_but_quick_on_the_clock_is_in_time(
    logical_clock: LogicalClock,
) -> None:
    # Waiting its turn for the one handler lock takes wall time, not simulated time.
    assert _run_task(logical_clock, simulated=0.1, wall=0.5, timeout=0.2)
    assert logical_clock.now() == pytest.approx(0.1)


def test_a_task_longer_than_its_timeout_on_the_clock_timed_out(
    logical_clock: LogicalClock,
) -> None:
    assert not _run_task(logical_clock, simulated=45, wall=0, timeout=30)
    assert logical_clock.now() == pytest.approx(45)
