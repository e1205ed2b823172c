"""Fault injection: for tests, and for anyone curious how the flows fail and recover."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Final, Literal

ANY_STEP: Final = "*"
INJECTED_ERROR: Final = "InjectedFault"


class InjectedFault(Exception):
    """A step made to fail on purpose (terminal: the flows roll back)."""


class TransientAwsError(Exception):
    """Shaped like the library's retryable error: the ASL retries it by this class name."""


class AwsThrottled(Exception):
    """Shaped like the library's throttling error: the ASL retries it longer, by this name."""


#: The errors a fault may raise by name (any other name: InjectedFault).
_SHAPED: Final = {cls.__name__: cls for cls in (TransientAwsError, AwsThrottled)}


@dataclass
class StepFault:
    """Make `step` (a function directory name, or "*" for every step) fail.

    when: "before" its work, or "after" it did its work (the resource exists, the step fails).
    times: how many invocations fail per step (None: every one).
    """

    step: str
    when: Literal["before", "after"] = "before"
    error: str = INJECTED_ERROR
    times: int | None = None
    _seen: dict[str, int] = field(default_factory=dict, repr=False)

    def applies(self, step: str, when: str) -> bool:
        if self.when != when or self.step not in (ANY_STEP, step):
            return False
        count = self._seen.get(step, 0)
        if self.times is not None and count >= self.times:
            return False
        self._seen[step] = count + 1
        return True

    def exception(self, step: str) -> Exception:
        message = f"{step}: fault injected {self.when} its work"
        return _SHAPED.get(self.error, InjectedFault)(message)


#: The longest a held step waits for its release (wall seconds): a test that forgets to release
#: it goes on (and fails on its own assertions) instead of hanging.
HOLD_TIMEOUT_SECONDS: Final = 120.0


@dataclass
class Hold:
    """Stop the `nth` invocation of `step` before its work until the test releases it: an
    interleaving of executions, made on purpose (which one reaches the registry first)."""

    step: str
    nth: int = 1
    reached: threading.Event = field(default_factory=threading.Event, repr=False)
    released: threading.Event = field(default_factory=threading.Event, repr=False)
    _seen: int = field(default=0, repr=False)

    def release(self) -> None:
        self.released.set()

    def applies(self, step: str) -> bool:
        """Count an invocation of `step`; True for the one to hold."""
        if step != self.step:
            return False
        self._seen += 1
        return self._seen == self.nth


@dataclass
class Faults:
    steps: list[StepFault] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    #: Probability that an AWS call made by a step is throttled (boto3 retries it first).
    throttle_probability: float = 0.0
    #: When set, every task of a service stops right after starting, with this reason.
    tasks_stop_reason: str | None = None
    #: Refuse this many security group deletions with DependencyViolation (-1: always).
    dependency_violations: int = 0
    #: When set, the containers answer every request with this HTTP status (a broken page
    #: behind targets a TCP health check still finds healthy).
    container_status: int | None = None
    #: Refuse this many CreateCluster calls with capacity providers while ECS's service-linked
    #: role propagates in a fresh account (-1: always), as ECS does
    #: (emulator.SERVICE_LINKED_ROLE_PENDING).
    cluster_role_pending: int = 0
    #: Step -> simulated seconds its handler takes after doing its work (a slow dependency):
    #: past the function's Timeout, Lambda answers Sandbox.Timedout.
    slow_steps: dict[str, float] = field(default_factory=dict)
    #: Containers (by name) whose health check never passes: a container waiting for one to
    #: be HEALTHY never starts, and the task stops once the checks' retries are spent.
    unhealthy_containers: frozenset[str] = frozenset()
    #: Images no registry has (a tag never pushed): pulling one fails the task as ECS does.
    missing_images: frozenset[str] = frozenset()
    #: One-off tasks (RunTask: the pre-traffic command): the main container's exit code, what it
    #: writes to its log stream (None: the command, then what its `echo`s print), and how long it
    #: runs (None: until it is stopped).
    one_off_exit_code: int = 0
    one_off_log_lines: tuple[str, ...] | None = None
    one_off_run_seconds: float | None = 5.0
    seed: int = 7
    _random: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def hold(self, step: str) -> None:
        """Wait here while a Hold of this invocation of `step` is not released."""
        with self._lock:
            held = [hold for hold in self.holds if hold.applies(step)]
        for hold in held:
            hold.reached.set()
            hold.released.wait(HOLD_TIMEOUT_SECONDS)

    def step_fault(self, step: str, when: str) -> Exception | None:
        with self._lock:
            for fault in self.steps:
                if fault.applies(step, when):
                    return fault.exception(step)
        return None

    def throttle(self) -> bool:
        if self.throttle_probability <= 0:
            return False
        with self._lock:
            return self._random.random() < self.throttle_probability

    def refuse_security_group_deletion(self) -> bool:
        with self._lock:
            refused, self.dependency_violations = _spend(self.dependency_violations)
        return refused

    def refuse_cluster_creation(self) -> bool:
        with self._lock:
            refused, self.cluster_role_pending = _spend(self.cluster_role_pending)
        return refused


def _spend(remaining: int) -> tuple[bool, int]:
    """One refusal from a budget (-1: unlimited): (refused?, what is left)."""
    if remaining == 0:
        return False, 0
    return True, remaining - 1 if remaining > 0 else remaining
