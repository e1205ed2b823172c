"""Following an execution as it runs: one line per state, as the console's graph would show it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from embedded_aws.emulator import TERMINAL, EmbeddedAWS

_ENTERED = "StateEntered"
_EXITED = "StateExited"


@dataclass
class StateLine:
    name: str
    entered: float
    exited: float | None = None
    outcome: str = "running"
    retries: int = 0


@dataclass
class Progress:
    """Turns history events into per-state lines; repeated polling states become one summary."""

    start: float
    write: Callable[[str], None]
    seen: set[str] = field(default_factory=set)
    open_states: dict[str, StateLine] = field(default_factory=dict)
    repeats: dict[str, int] = field(default_factory=dict)
    last_id: int = 0

    def _flush_repeats(self) -> None:
        for name, count in self.repeats.items():
            self.write(f"{'':>10}  ... {name}: {count} more time(s)")
        self.repeats.clear()

    def feed(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        moment = event["timestamp"].timestamp() - self.start
        if kind.endswith(_ENTERED):
            name = event["stateEnteredEventDetails"]["name"]
            self.open_states[name] = StateLine(name, moment)
        elif kind.endswith(_EXITED):
            name = event["stateExitedEventDetails"]["name"]
            line = self.open_states.pop(name, StateLine(name, moment))
            line.exited = moment
            if line.outcome == "running":
                line.outcome = "ok"
            if name in self.seen and kind.split("State")[0] in ("Task", "Wait", "Choice"):
                self.repeats[name] = self.repeats.get(name, 0) + 1
                return
            self._flush_repeats()
            self.seen.add(name)
            retried = (
                f", {line.retries} retr{'y' if line.retries == 1 else 'ies'}"
                if line.retries
                else ""
            )
            self.write(
                f"[{moment:7.1f}s] {name:<48} {line.outcome:<7} {moment - line.entered:6.1f}s{retried}"
            )
        elif kind == "TaskFailed":
            details = event["taskFailedEventDetails"]
            for line in self.open_states.values():
                if line.outcome in ("running", "retried"):
                    line.retries += 1
                    line.outcome = "failed"
            self.last_error = details.get("error")
        elif kind == "TaskSucceeded":
            for line in self.open_states.values():
                if line.outcome == "failed":
                    line.outcome = "ok"

    def finish(self) -> None:
        self._flush_repeats()


def follow(aws: EmbeddedAWS, execution_arn: str, write: Callable[[str], None]) -> None:
    """Print progress until the execution ends."""
    sfn = aws.client("stepfunctions")
    described = sfn.describe_execution(executionArn=execution_arn)
    progress = Progress(start=described["startDate"].timestamp(), write=write)
    done = 0
    while True:
        status = sfn.describe_execution(executionArn=execution_arn)["status"]
        events = aws.history(execution_arn)
        for event in events[done:]:
            progress.feed(event)
        done = len(events)
        if status in TERMINAL:
            break
        time.sleep(0.02)
    progress.finish()
