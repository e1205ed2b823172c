"""Following an execution as it runs: one line per state, as the console's graph shows it
(state, outcome, duration). A polling loop's repeated states fold into one line. On a terminal,
a status line under them shows what runs now and for how long (LiveLine); piped, only the lines."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
_REPEATABLE = ("Task", "Wait", "Choice")


@dataclass
class Progress:
    start: float
    write: Callable[[str], None]
    printed: set[str] = field(default_factory=set)
    entered: dict[str, float] = field(default_factory=dict)  # state -> entered at
    failures: dict[str, int] = field(default_factory=dict)  # state -> failed attempts
    last_failed: set[str] = field(default_factory=set)  # states whose last attempt failed
    state_of_event: dict[int, str] = field(default_factory=dict)
    repeats: dict[str, int] = field(default_factory=dict)
    #: states entered and not yet left (what runs now), and the latest moment seen
    active: dict[str, float] = field(default_factory=dict)
    latest: float = 0.0

    def _flush_repeats(self) -> None:
        for name, count in self.repeats.items():
            self.write(f"{'':>10}  ... {name}: {count} more time(s)")
        self.repeats.clear()

    def feed(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        moment = event["timestamp"].timestamp() - self.start
        # Every event descends from the StateEntered event of its state (previousEventId chain).
        state = self.state_of_event.get(event.get("previousEventId", 0))
        self.latest = max(self.latest, moment)
        if kind.endswith("StateEntered"):
            state = event["stateEnteredEventDetails"]["name"]
            self.entered[state] = moment
            self.active[state] = moment
            self.failures.pop(state, None)
        if state is not None:
            self.state_of_event[event["id"]] = state
        if kind == "TaskFailed" and state is not None:
            self.failures[state] = self.failures.get(state, 0) + 1
            self.last_failed.add(state)
        elif kind == "TaskSucceeded" and state is not None:
            self.last_failed.discard(state)
        if not kind.endswith("StateExited"):
            return
        name = event["stateExitedEventDetails"]["name"]
        self.active.pop(name, None)
        if name in self.printed and kind.removesuffix("StateExited") in _REPEATABLE:
            self.repeats[name] = self.repeats.get(name, 0) + 1
            return
        self._flush_repeats()
        self.printed.add(name)
        failed = self.failures.get(name, 0)
        if name in self.last_failed:
            outcome = "FAILED"
            failed -= 1
        else:
            outcome = "ok"
        note = f"  ({failed} retried failure{'s' if failed > 1 else ''})" if failed > 0 else ""
        took = moment - self.entered.get(name, moment)
        self.write(f"[{moment:7.1f}s] {name:<46} {outcome:<6} {took:6.1f}s{note}")

    def finish(self) -> None:
        self._flush_repeats()

    def running(self) -> str:
        """What runs now: the most recently entered states, with the time so far."""
        if not self.active:
            return f"[{self.latest:7.1f}s] starting"
        recent = sorted(self.active, key=lambda name: self.active[name], reverse=True)
        shown = ", ".join(recent[:2]) + (f" (+{len(recent) - 2} more)" if len(recent) > 2 else "")
        return f"[{self.latest:7.1f}s] running: {shown}"


class LiveLine:
    """Lines above, one status line below that is rewritten in place (a terminal only)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.status_text = ""

    def write(self, line: str) -> None:
        self.stream.write(f"\r\033[K{line}\n")
        if self.status_text:
            self.stream.write(self.status_text)
        self.stream.flush()

    def status(self, text: str) -> None:
        width = shutil.get_terminal_size().columns - 1
        self.status_text = text[:width]
        self.stream.write(f"\r\033[K{self.status_text}")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\r\033[K")
        self.stream.flush()


def events_after(sfn: Any, execution_arn: str, seen: int) -> list[dict[str, Any]]:
    """The events after the first `seen` (their ids run 1, 2, ...), oldest first: read newest
    first, up to the first one already seen, so a look at a long history reads one page."""
    newest_first: list[dict[str, Any]] = []
    pages = sfn.get_paginator("get_execution_history").paginate(
        executionArn=execution_arn, reverseOrder=True
    )
    for page in pages:
        for event in page["events"]:
            if int(event["id"]) <= seen:
                return newest_first[::-1]
            newest_first.append(event)
    return newest_first[::-1]


def follow(
    sfn: Any,
    execution_arn: str,
    write: Callable[[str], None],
    poll_seconds: float = 0.05,
    status: Callable[[str], None] | None = None,
    deadline: float | None = None,
) -> dict[str, Any]:
    """Print progress until the execution ends (or the monotonic `deadline` passes); returns its
    last description. `status` receives what runs now after each look (a live display)."""
    described = sfn.describe_execution(executionArn=execution_arn)
    progress = Progress(start=described["startDate"].timestamp(), write=write)
    done = 0
    while True:
        described = sfn.describe_execution(executionArn=execution_arn)
        for event in events_after(sfn, execution_arn, done):
            progress.feed(event)
            done = int(event["id"])
        if described["status"] in TERMINAL:
            break
        if deadline is not None and time.monotonic() > deadline:
            break
        if status is not None:
            status(progress.running())
        time.sleep(poll_seconds)
    progress.finish()
    return dict(described)
