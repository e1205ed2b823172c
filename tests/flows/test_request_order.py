"""Requests for one name are resolved in the order they were made, not in the order their
executions reach the registry: a teardown requested after a create always ends with nothing
left; a create requested after a teardown proceeds after it; a request that finds a later one
of the other kind recorded is superseded and changes nothing. Interleavings are made on purpose
by holding a step of one execution (embedded_aws.faults.Hold) while the other one runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from embedded_aws.emulator import EmbeddedAWS, Execution
from embedded_aws.faults import Faults, Hold
from tests.flows.request_times import at
from tests.flows.test_lifecycle import registry_item

CREATE, TEARDOWN = "create", "teardown"
#: Each kind's first registry write, and a step in the middle of its work.
CLAIM_STEP = {CREATE: "claim_environment", TEARDOWN: "begin_teardown"}
MID_STEP = {CREATE: "create_service", TEARDOWN: "delete_target_groups"}


@dataclass
class Request:
    kind: str
    requested_at: str | None = None

    def payload(self, env: str) -> dict[str, Any]:
        body: dict[str, Any] = {"spec": {"name": env}} if self.kind == CREATE else {"name": env}
        return body if self.requested_at is None else {**body, "requested_at": self.requested_at}


def start(embedded: EmbeddedAWS, env: str, request: Request, tag: str) -> str:
    machine = embedded.provision_arn if request.kind == CREATE else embedded.teardown_arn
    return embedded.start_execution(machine, request.payload(env), f"{request.kind}-{tag}-{env}")


def ended(embedded: EmbeddedAWS, arn: str) -> bool:
    status = embedded.client("stepfunctions").describe_execution(executionArn=arn)["status"]
    return bool(status != "RUNNING")


def until_held_or_ended(embedded: EmbeddedAWS, arn: str, hold: Hold, timeout: float = 120) -> None:
    """Wall time, until `arn`'s execution reached `hold` or ended."""
    deadline = time.monotonic() + timeout
    while not hold.reached.wait(0.01):
        if ended(embedded, arn):
            return
        assert time.monotonic() < deadline, f"{arn} neither held nor ended"


Schedule = Callable[[EmbeddedAWS, str, Request, Request], tuple[Execution, Execution]]


def one_after_the_other(
    embedded: EmbeddedAWS, env: str, first: Request, second: Request
) -> tuple[Execution, Execution]:
    """The second is delivered once the first has ended."""
    done = embedded.wait(start(embedded, env, first, "1"))
    return done, embedded.wait(start(embedded, env, second, "2"))


def second_before_the_first_claims(
    embedded: EmbeddedAWS, env: str, first: Request, second: Request
) -> tuple[Execution, Execution]:
    """The first has started but not reached the registry when the second runs to its end."""
    held = Hold(CLAIM_STEP[first.kind])
    embedded.reconfigure(faults=Faults(holds=[held]))
    first_arn = start(embedded, env, first, "1")
    until_held_or_ended(embedded, first_arn, held)
    try:
        second_done = embedded.wait(start(embedded, env, second, "2"))
    finally:
        held.release()
    return embedded.wait(first_arn), second_done


def second_while_the_first_runs(
    embedded: EmbeddedAWS, env: str, first: Request, second: Request
) -> tuple[Execution, Execution]:
    """The first has claimed and is half-way through its work when the second arrives; the
    second, if it waits, looks again only once the first has ended."""
    mid, again = Hold(MID_STEP[first.kind]), Hold(CLAIM_STEP[second.kind], nth=2)
    embedded.reconfigure(faults=Faults(holds=[mid, again]))
    first_arn = start(embedded, env, first, "1")
    until_held_or_ended(embedded, first_arn, mid)
    second_arn = start(embedded, env, second, "2")
    try:
        until_held_or_ended(embedded, second_arn, again)
    finally:
        mid.release()
    first_done = embedded.wait(first_arn)
    again.release()
    return first_done, embedded.wait(second_arn)


def both_at_once(
    embedded: EmbeddedAWS, env: str, first: Request, second: Request
) -> tuple[Execution, Execution]:
    """Started back to back, left to race."""
    arns = [start(embedded, env, first, "1"), start(embedded, env, second, "2")]
    first_done, second_done = (embedded.wait(arn) for arn in arns)
    return first_done, second_done


SCHEDULES: dict[str, Schedule] = {
    "in-turn": one_after_the_other,
    "before-its-claim": second_before_the_first_claims,
    "while-it-runs": second_while_the_first_runs,
    "at-once": both_at_once,
}
#: Seconds after a common moment at which the create and the teardown were requested.
TIMES = {"create-first": (0, 1), "same-instant": (0, 0), "teardown-first": (1, 0)}


def outcome(execution: Execution) -> str:
    assert execution.status == "SUCCEEDED", execution.cause
    return str(execution.output["outcome"])


def tear_down_for_good(embedded: EmbeddedAWS, env: str) -> None:
    """Remove what a test left (a later request than any of the test's)."""
    done = embedded.wait(start(embedded, env, Request(TEARDOWN, at(embedded, 60)), "cleanup"))
    assert outcome(done) == "deleted"
    assert embedded.remaining(env) == []


# ---------------------------------------------------------------------------- the property
@pytest.mark.parametrize("delivered", ["create-delivered-first", "teardown-delivered-first"])
@pytest.mark.parametrize("times", sorted(TIMES))
@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_whatever_the_interleaving_the_request_made_last_wins(
    embedded: EmbeddedAWS, env_name: str, schedule: str, times: str, delivered: str
):
    # Given one create and one teardown of a name, requested at these times
    create_offset, teardown_offset = TIMES[times]
    create = Request(CREATE, at(embedded, create_offset))
    teardown = Request(TEARDOWN, at(embedded, teardown_offset))
    first, second = (create, teardown) if delivered.startswith(CREATE) else (teardown, create)

    # When their executions run in this interleaving
    done = dict(
        zip(
            (first.kind, second.kind),
            SCHEDULES[schedule](embedded, env_name, first, second),
            strict=True,
        )
    )

    # Then both end normally, and what is left is what the request made last asked for (a tie
    # goes to the teardown)
    outcomes = {kind: outcome(execution) for kind, execution in done.items()}
    if create_offset > teardown_offset:
        assert outcomes[CREATE] == "ready"
        assert outcomes[TEARDOWN] in ("superseded", "deleted")
        assert registry_item(embedded, env_name)["status"] == "READY"
        assert any(item.startswith("ecs service") for item in embedded.remaining(env_name))
        tear_down_for_good(embedded, env_name)
    else:
        assert outcomes[TEARDOWN] == "deleted"
        assert outcomes[CREATE] in ("superseded", "ready")
        assert embedded.remaining(env_name) == []
        assert registry_item(embedded, env_name)["status"] == "DELETED"


# ---------------------------------------------------------------------------- the races of #11
def test_a_teardown_requested_after_a_create_never_cuts_it_off_mid_create(embedded, env_name):
    # Given a create, and a teardown requested a second later that reaches the registry first
    create = Request(CREATE, at(embedded, 0))
    teardown = Request(TEARDOWN, at(embedded, 1))
    claim, find = Hold("claim_environment"), Hold("find_environment_resources")
    mid_create = Hold("create_service")
    embedded.reconfigure(faults=Faults(holds=[claim, find, mid_create]))
    create_arn = start(embedded, env_name, create, "1")
    until_held_or_ended(embedded, create_arn, claim)
    teardown_arn = start(embedded, env_name, teardown, "2")
    until_held_or_ended(embedded, teardown_arn, find)

    # When the create goes on as far as it may, and the teardown then runs its deletions
    claim.release()
    until_held_or_ended(embedded, create_arn, mid_create)
    find.release()
    removal = embedded.wait(teardown_arn)
    mid_create.release()
    provision = embedded.wait(create_arn)

    # Then the create changed nothing (superseded: it never claimed), the teardown failed
    # nothing, and nothing is left (before: the teardown deleted the task definition, cluster
    # and log group mid-create, and the create failed at CreateService)
    assert outcome(provision) == "superseded"
    assert "superseded: a teardown of" in provision.output["message"]
    assert outcome(removal) == "deleted"
    assert embedded.remaining(env_name) == []
    assert registry_item(embedded, env_name)["status"] == "DELETED"


def test_a_create_and_a_teardown_started_at_the_same_moment_leave_nothing(embedded, env_name):
    # Given a create and a teardown with no time of their own, started at the same (simulated)
    # moment: each is requested when its execution starts, a tie the teardown wins
    held = Hold("claim_environment")
    embedded.reconfigure(faults=Faults(holds=[held]))
    create_arn = start(embedded, env_name, Request(CREATE), "1")
    teardown_arn = start(embedded, env_name, Request(TEARDOWN), "2")
    # (the teardown reaches the registry first, as it did in the issue)
    until_held_or_ended(embedded, create_arn, held)
    removal = embedded.wait(teardown_arn)
    held.release()
    provision = embedded.wait(create_arn)

    # Then nothing is left running (before: the environment became READY)
    assert outcome(removal) == "deleted"
    assert outcome(provision) == "superseded"
    assert embedded.remaining(env_name) == []


def test_events_delivered_out_of_order_leave_what_the_last_request_asked_for(embedded, env_name):
    # Given a create requested before a teardown, delivered after the teardown has run
    create = Request(CREATE, at(embedded, 0))
    teardown = Request(TEARDOWN, at(embedded, 1))

    removal = embedded.wait(start(embedded, env_name, teardown, "1"))
    provision = embedded.wait(start(embedded, env_name, create, "2"))

    # Then the late create is superseded: nothing runs (before: it became READY)
    assert outcome(removal) == "deleted"
    assert outcome(provision) == "superseded"
    assert embedded.remaining(env_name) == []
    # And a create requested after the teardown proceeds
    again = embedded.wait(start(embedded, env_name, Request(CREATE, at(embedded, 2)), "3"))
    assert outcome(again) == "ready"
    tear_down_for_good(embedded, env_name)
