"""Worst cases of a machine, read from its ASL, and the nested bounds they must fit in.

The worst case: every loop at its bound, every Retry at MaxAttempts with its longest pauses,
every Task attempt running until its TimeoutSeconds, and every state visited (as if the last
step failed and compensation ran too). Branches of a Parallel and items of a Map run at once,
so for time the slowest counts; for history, all of their events do. Events per state are
those Step Functions records (tests/flows/test_definitions.py holds them to the histories).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fargate_env import bounds

Json = dict[str, Any]

#: Events of one visit (a Lambda Task: TaskStateEntered, TaskScheduled, TaskStarted,
#: TaskSucceeded|TaskFailed, TaskStateExited; a retry: TaskScheduled, TaskStarted, TaskFailed).
STATE_EVENTS = {"Task": 5, "Wait": 2, "Choice": 2, "Pass": 2, "Succeed": 2, "Fail": 2}
PARALLEL_EVENTS = MAP_EVENTS = 4  # Entered, Started, Succeeded|Failed, Exited
MAP_ITEM_EVENTS = 2  # MapIterationStarted, MapIterationSucceeded|Failed
EXECUTION_EVENTS = 2  # ExecutionStarted, ExecutionSucceeded|Failed
RETRY_EVENTS = 3
NESTED_EXTRA_EVENTS = 1  # a nested execution (.sync) also records TaskSubmitted
NESTED_EXECUTION = "arn:aws:states:::states:startExecution.sync:2"


@dataclass(frozen=True)
class Cost:
    seconds: float = 0.0
    events: int = 0

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.seconds + other.seconds, self.events + other.events)


@dataclass(frozen=True)
class Loop:
    """The cycles through `states` share one bound: at most `turns` turns in all; their Waits
    of computed Seconds wait at most `waited` seconds over all the turns."""

    states: frozenset[str]
    turns: int
    waited: int = 0


def pauses(retrier: Json) -> float:
    """The longest a Retry rule pauses in all: each pause IntervalSeconds x BackoffRate^n,
    capped by MaxDelaySeconds (FULL jitter only shortens them)."""
    interval, rate, cap = (
        retrier["IntervalSeconds"],
        retrier["BackoffRate"],
        retrier["MaxDelaySeconds"],
    )
    return float(sum(min(cap, interval * rate**n) for n in range(retrier["MaxAttempts"])))


def task_cost(state: Json) -> Cost:
    retries = sum(retrier["MaxAttempts"] for retrier in state.get("Retry", []))
    paused = sum(pauses(retrier) for retrier in state.get("Retry", []))
    if state["Resource"] == NESTED_EXECUTION:
        # Its rules retry Step Functions refusing StartExecution: the child runs once.
        extra = NESTED_EXTRA_EVENTS * (1 + retries)
        return Cost(
            state["TimeoutSeconds"] + paused, STATE_EVENTS["Task"] + RETRY_EVENTS * retries + extra
        )
    seconds = (1 + retries) * state["TimeoutSeconds"] + paused
    return Cost(seconds, STATE_EVENTS["Task"] + RETRY_EVENTS * retries)


class Analysis:
    """The worst case of one machine, given the bounds of its loops and of a Map's items."""

    def __init__(self, loops: Sequence[Loop], map_items: int) -> None:
        self.loops = loops
        self.map_items = map_items

    def machine(self, definition: Json) -> Cost:
        return self.scope(definition) + Cost(0, EXECUTION_EVENTS)

    def scope(self, scope: Json) -> Cost:
        states: dict[str, Json] = scope["States"]
        found = cycles(states)
        total = Cost()
        for name, state in states.items():
            if not any(name in cycle for cycle in found):
                total += self.state(name, state, in_loop=False)
        by_loop: dict[Loop, list[Cost]] = {}
        for cycle in found:
            turn = sum((self.state(n, states[n], in_loop=True) for n in cycle), Cost())
            by_loop.setdefault(self.loop_of(cycle), []).append(turn)
        for loop, turns in by_loop.items():
            turn = max(turns, key=lambda cost: (cost.events, cost.seconds))
            total += Cost(turn.seconds * loop.turns + loop.waited, turn.events * loop.turns)
        return total

    def loop_of(self, cycle: set[str]) -> Loop:
        for loop in self.loops:
            if loop.states & cycle:
                return loop
        raise ValueError(f"no bound declared for the loop {sorted(cycle)}")

    def state(self, name: str, state: Json, in_loop: bool) -> Cost:
        kind = state["Type"]
        if kind == "Task":
            return task_cost(state)
        if kind == "Parallel":
            branches = [self.scope(branch) for branch in state["Branches"]]
            seconds = max(branch.seconds for branch in branches)
            return Cost(seconds, PARALLEL_EVENTS + sum(branch.events for branch in branches))
        if kind == "Map":
            item = self.scope(state["ItemProcessor"])
            rounds = math.ceil(self.map_items / (state.get("MaxConcurrency") or self.map_items))
            events = MAP_EVENTS + self.map_items * (MAP_ITEM_EVENTS + item.events)
            return Cost(item.seconds * rounds, events)
        seconds = state.get("Seconds", 0)
        if not isinstance(seconds, int):  # computed: counted by its loop's `waited`
            if not in_loop:
                raise ValueError(f"{name}: a Wait of computed Seconds outside a bounded loop")
            seconds = 0
        return Cost(seconds, STATE_EVENTS[kind])


def _successors(state: Json) -> Iterator[str]:
    yield from (target for target in (state.get("Next"), state.get("Default")) if target)
    yield from (rule["Next"] for rule in state.get("Choices", []))
    yield from (clause["Next"] for clause in state.get("Catch", []))


def cycles(states: Mapping[str, Json]) -> list[set[str]]:
    """The strongly connected components of a scope that hold a cycle (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in _successors(states[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set(stack[stack.index(node) :])
            del stack[stack.index(node) :]
            if len(component) > 1 or node in _successors(states[node]):
                found.append(component)

    for name in states:
        if name not in index:
            visit(name)
    return found


def walk_states(scope: Json) -> Iterator[tuple[str, Json]]:
    for name, state in scope["States"].items():
        yield name, state
        for inner in [*state.get("Branches", []), *filter(None, [state.get("ItemProcessor")])]:
            yield from walk_states(inner)


def task_timeout_problems(
    machine: str, definition: Json, timeouts: Mapping[str, int]
) -> Iterator[str]:
    """Each Lambda Task waits at least as long as Lambda lets its function run."""
    for name, state in walk_states(definition):
        function = state.get("Arguments", {}).get("FunctionName", "")
        if state["Type"] == "Task" and function.startswith("${"):
            logical_id = function[2 : -len("Arn}")]
            if logical_id not in timeouts:
                yield f"{machine}: {name}: no function {logical_id} in template.yaml"
            elif state["TimeoutSeconds"] < timeouts[logical_id]:
                yield (
                    f"{machine}: {name}: TimeoutSeconds {state['TimeoutSeconds']} is shorter than "
                    f"{logical_id}'s Timeout {timeouts[logical_id]} in template.yaml"
                )


def fit_problems(machine: str, definition: Json, worst: Cost) -> Iterator[str]:
    """The machine's TimeoutSeconds beyond its worst case; its history under the limit."""
    if definition["TimeoutSeconds"] <= worst.seconds:
        yield (
            f"{machine}: TimeoutSeconds {definition['TimeoutSeconds']} does not exceed its worst "
            f"case of {math.ceil(worst.seconds)} s"
        )
    if worst.events >= bounds.HISTORY_EVENT_LIMIT:
        yield (
            f"{machine}: its worst case records {worst.events} history events; Step Functions "
            f"stops an execution at {bounds.HISTORY_EVENT_LIMIT}"
        )


def nested_problems(parent: str, task: str, state: Json, child: str, worst: Cost) -> Iterator[str]:
    """A Task running a nested execution waits for the child's worst case."""
    if state["TimeoutSeconds"] < worst.seconds:
        yield (
            f"{parent}: {task}: TimeoutSeconds {state['TimeoutSeconds']} is shorter than the "
            f"{child} machine's worst case of {math.ceil(worst.seconds)} s"
        )
