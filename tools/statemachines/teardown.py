"""The teardown machine: by name, in dependency order; already gone is success; every failure
names its step and says to run the teardown again (it resumes from what is left)."""

from __future__ import annotations

from typing import NamedTuple

from fargate_env import bounds, errors, failures, registry, spec
from tools.statemachines import asl
from tools.statemachines.asl import Json, State, x
from tools.statemachines.bounds_check import Loop

RESULT = "$states.result.Payload"
NAME_AND_INVENTORY = {"name": "$name", "inventory": "$inventory"}
CLAIM_POLLS = "($exists($states.input.claim_polls) ? $states.input.claim_polls : 0) + 1"

CLAIM = "Claim the environment for teardown"
CLAIMED = "Is it still being created?"
GIVE_UP = "Give up waiting for the creation"
WAIT_FOR_CREATION = "Wait for the creation to finish"
SUPERSEDED = "Superseded by a later create"
FIND = "Find the environment's resources"
TEARDOWN_FAILED = "Teardown failed"
CHECK_TASKS = "Check the tasks have stopped"
CHECK_LOAD_BALANCERS = "Check the load balancers are gone"
BRANCH_FAILED = "Fails the branch, and so the teardown, naming the step."
CREATION_WAIT_HOURS = asl.hours(bounds.CREATION_WAIT)
BUSY = asl.text(
    f"Environment {{name}} was still being created after {CREATION_WAIT_HOURS}; nothing was "
    "deleted.",
    name="$name",
)
#: The environment an input names, before it is validated (null when it names none).
NAMED_IN_INPUT = x(
    "$type($states.input.name) = 'string' ? $states.input.name : "
    "$type($states.input.detail.name) = 'string' ? $states.input.detail.name : null"
)
#: An input refused: say how to give one; anything else at the claim: run it again.
NEXT_AFTER_CLAIM_FAILED = asl.after_input_error(
    failures.FIX_THE_TEARDOWN_INPUT, failures.RUN_TEARDOWN_AGAIN
)


def teardown_failure(state: str, resources: str = failures.PARTLY_DELETED, **fields: str) -> Json:
    """The failure of a teardown state: named, with what was deleted and to run it again."""
    return asl.failure(
        state,
        environment="$name",
        resources=resources,
        next_step=failures.RUN_TEARDOWN_AGAIN,
        **fields,
    )


def loops(*, rollback: bool = False) -> list[Loop]:
    """The claim comes back every 30 s while a creation runs (never for a rollback, whose
    provisioning is the creation); each branch's wait looks at most TEARDOWN_MAX_POLLS times,
    at the interval of the slowest drain a spec allows."""
    schema = spec.json_schema()["$defs"]
    slowest = bounds.teardown_polling(
        schema["TargetGroup"]["properties"]["deregistration_delay_seconds"]["maximum"],
        schema["Container"]["properties"]["stop_timeout_seconds"]["maximum"],
    )
    waited = slowest.worst_case_seconds
    return [
        Loop(frozenset({CLAIM}), 1 if rollback else bounds.CREATION_WAIT.max_polls),
        Loop(frozenset({CHECK_TASKS}), bounds.TEARDOWN_MAX_POLLS, waited),
        Loop(frozenset({CHECK_LOAD_BALANCERS}), bounds.TEARDOWN_MAX_POLLS, waited),
    ]


def report_to(fail_state: str, resources: str = failures.PARTLY_DELETED) -> asl.Catcher:
    """Fail at `fail_state` with the failure record of the step that failed."""
    why = "Name the step in the failure"
    return lambda state: [
        asl.catch(
            fail_state, why, Output=asl.failed_with(teardown_failure(state, resources=resources))
        )
    ]


class Waiting(NamedTuple):
    """After a deletion: `check` (at once or after a wait) every interval until `done`, or fail
    at `late` at the claim's bound (saying what is `still_there`); `failed` fails the branch."""

    wait: str
    wait_comment: str
    check: str
    step: str
    check_comment: str
    payload: Json
    decide: str
    late: str
    still_there: str
    done: str
    done_comment: str
    done_output: Json
    failed: str
    look_at_once: bool = False


def delete_then_wait(
    name: str,
    step: str,
    comment: str,
    remember: Json,
    w: Waiting,
    payload: Json = NAME_AND_INVENTORY,
) -> Json:
    """A branch: the deletion (its `payload`), then the wait `w` until it is done."""
    catcher = report_to(w.failed)
    late = teardown_failure(w.check, error=asl.DEADLINE_EXCEEDED, message=w.still_there)
    counted = f"$merge([{RESULT}, {{'polls': $states.input.polls + 1}}])"
    rules = [("$states.input.ready", w.done), ("$states.input.polls >= $maxPolls", w.late)]
    bounded = "Bounded by maxPolls (the poll count travels in the state's input)."
    then = w.check if w.look_at_once else None
    return asl.scope(
        asl.task(
            name, step, comment, payload, catcher, assign=remember, output={"polls": 0}, then=then
        ),
        asl.wait(w.wait, w.wait_comment, "$interval"),
        asl.task(w.check, w.step, w.check_comment, w.payload, catcher, output=counted),
        asl.choice(w.decide, bounded, rules, w.wait),
        asl.fail(w.late, "Bound reached.", **asl.failed_with(late)),
        asl.succeed(w.done, w.done_comment, w.done_output),
        asl.fail_with_input(w.failed, BRANCH_FAILED),
    )


def delete_alone(
    name: str, step: str, comment: str, kind: str, not_ready: str | None = None
) -> Json:
    """A branch of one deletion, reporting what it deleted under `kind`."""
    failed = f"Could not {name[0].lower()}{name[1:]}"
    output = {kind: f"{RESULT}.deleted"}
    return asl.scope(
        asl.task(
            name,
            step,
            comment,
            NAME_AND_INVENTORY,
            report_to(failed),
            not_ready=not_ready,
            output=output,
            then=asl.END,
        ),
        asl.fail_with_input(failed, BRANCH_FAILED),
    )


def branch_failed(state: str) -> list[Json]:
    """A branch failed naming its step: fail the teardown with that record."""
    why = "The branch named its step in the cause"
    return [asl.catch(TEARDOWN_FAILED, why, Output=x("$states.errorOutput"))]


def stop_the_service_and_the_load_balancers() -> State:
    service = delete_then_wait(
        "Delete the service",
        "delete_service",
        "Scale to zero and delete (force); the tasks drain from the target groups and stop.",
        {"deletedService": f"{RESULT}.deleted"},
        Waiting(
            wait="Wait for the tasks to stop",
            wait_comment="Draining (deregistration delay) plus the stop timeout.",
            check=CHECK_TASKS,
            step="wait_service_deleted",
            check_comment="One look: service INACTIVE and none of its tasks still stopping.",
            payload=NAME_AND_INVENTORY,
            decide="Have the tasks stopped?",
            late="Tasks did not stop in time",
            still_there=asl.text(
                "Still stopping after {polls} looks: {summary}",
                polls="$string($states.input.polls)",
                summary="$states.input.summary",
            ),
            done="Service deleted",
            done_comment="The service and its tasks are gone.",
            done_output={"service": "$deletedService"},
            failed="Could not stop the service",
        ),
    )
    load_balancers = delete_then_wait(
        "Delete the load balancers",
        "delete_load_balancers",
        "Listeners first, then the load balancers (billing stops when they are gone); in shared "
        "mode the environment's rules and listeners on its gateway, never the gateway's own.",
        {"deletedLoadBalancers": RESULT},
        Waiting(
            wait="Wait for the load balancers to go",
            wait_comment="Poll at the teardown's interval.",
            check=CHECK_LOAD_BALANCERS,
            step="wait_load_balancers_deleted",
            check_comment="One look: are the load balancers gone?",
            payload={"inventory": "$inventory"},
            decide="Are the load balancers gone?",
            late="Load balancers not gone in time",
            still_there=asl.text(
                "Still present after {polls} looks: {summary}",
                polls="$string($states.input.polls)",
                summary="$states.input.summary",
            ),
            done="Load balancers deleted",
            done_comment="Listeners and load balancers are gone.",
            done_output={
                "load_balancers": "$deletedLoadBalancers.deleted",
                "listeners": "$deletedLoadBalancers.deleted_listeners",
            },
            failed="Could not delete the load balancers",
            look_at_once=True,
        ),
        # The recorded mode: a dedicated environment's teardown never reads the gateways.
        payload={**NAME_AND_INVENTORY, "mode": "$mode"},
    )
    return asl.parallel(
        "Stop the service and the load balancers",
        "The two slow deletions at once: the service's tasks drain and stop while the load "
        "balancers go.",
        [service, load_balancers],
        branch_failed,
        {"deleted": "$merge($states.result)"},
    )


#: The input refused, or the claim failed: nothing was deleted.
claim_failed = asl.refuse_to(
    TEARDOWN_FAILED,
    "Nothing was deleted: name the field or the error",
    environment=NAMED_IN_INPUT,
    resources=failures.NONE_DELETED,
    next_step=NEXT_AFTER_CLAIM_FAILED,
)


def definition() -> Json:
    top_level = report_to(TEARDOWN_FAILED)
    waiting = f"$claim.outcome = '{registry.WAITING}'"
    return asl.machine(
        "fargate-env: tear an environment down by name, in dependency order; already gone is "
        "success.",
        bounds.TEARDOWN_TIMEOUT_SECONDS,
        asl.task(
            CLAIM,
            "begin_teardown",
            "The input validated (its name, its time), then registry DELETING, in the order "
            "the requests were made: superseded by a create requested after it. Not for a "
            "rollback, whose provisioning owns the record. An environment still being created "
            "is waited for, never cut off mid-create.",
            {
                "input": "$states.input",
                "execution_id": "$states.context.Execution.Id",
                "started_at": "$states.context.Execution.StartTime",
            },
            claim_failed,
            assign={
                "name": f"{RESULT}.name",
                "reason": f"{RESULT}.reason",
                "claim": RESULT,
                "recorded": f"{RESULT}.resources",
                "claimPolls": CLAIM_POLLS,
                "interval": f"{RESULT}.interval_seconds",
                "maxPolls": f"{RESULT}.max_polls",
                "mode": f"{RESULT}.mode",
            },
            output=f"$merge([$states.input, {{'claim_polls': {CLAIM_POLLS}}}])",
        ),
        asl.choice(
            CLAIMED,
            "A create requested after this teardown: end, nothing changed. A provisioning in "
            "progress finishes first (ready or rolled back); then this teardown removes what "
            "is left.",
            [
                (f"$claim.outcome = '{registry.SUPERSEDED}'", SUPERSEDED),
                (f"{waiting} and $claimPolls >= {bounds.CREATION_WAIT.max_polls}", GIVE_UP),
                (waiting, WAIT_FOR_CREATION),
            ],
            FIND,
        ),
        asl.succeed(
            SUPERSEDED,
            "A create of the name was requested after this teardown: nothing was deleted or "
            "changed (a normal end, not a failure).",
            {
                "name": "$name",
                "reason": "$reason",
                "outcome": "'superseded'",
                "message": "$claim.message",
                "deleted": {},
                "deleted_count": 0,
                "found": 0,
            },
        ),
        asl.bounded_wait(WAIT_FOR_CREATION, bounds.CREATION_WAIT, CLAIM),
        asl.fail(
            GIVE_UP,
            f"The provisioning did not finish within {CREATION_WAIT_HOURS}.",
            **asl.failed_with(
                teardown_failure(
                    CLAIM,
                    resources=failures.NONE_DELETED,
                    error=errors.EnvironmentBusy.__name__,
                    message=BUSY,
                )
            ),
        ),
        asl.task(
            FIND,
            "find_environment_resources",
            "Recorded ids first, then name and tag lookups in ECS, ELBv2, EC2, CloudWatch Logs "
            "and Scheduler: a lost record orphans nothing.",
            {"name": "$name", "resources": "$recorded"},
            report_to(TEARDOWN_FAILED, failures.NONE_DELETED),
            assign={"inventory": RESULT},
        ),
        stop_the_service_and_the_load_balancers(),
        asl.parallel(
            "Delete what the service used",
            "Independent deletions at once, now that no listener or task uses them.",
            [
                delete_alone(
                    "Delete the target groups",
                    "delete_target_groups",
                    "No listener uses them any more.",
                    "target_groups",
                    not_ready="A listener still referenced a target group",
                ),
                delete_alone(
                    "Delete the task definitions",
                    "delete_task_definitions",
                    "Deregister every revision, then delete the INACTIVE ones.",
                    "task_definitions",
                ),
                delete_alone(
                    "Delete the cluster",
                    "delete_cluster",
                    "Empty now that the service and its tasks are gone.",
                    "cluster",
                    not_ready="Tasks were still being stopped",
                ),
                delete_alone(
                    "Delete the log group", "delete_log_group", "The tasks' logs.", "log_group"
                ),
                delete_alone(
                    "Delete the expiry schedule",
                    "delete_expiry_schedule",
                    "The time-to-live schedule, if any.",
                    "schedule",
                ),
                delete_alone(
                    "Delete the execution role",
                    "delete_execution_role",
                    "The environment's own role, now that no task uses it.",
                    "execution_role",
                ),
            ],
            branch_failed,
            {"deleted": "$merge([$deleted, $merge($states.result)])"},
        ),
        asl.task(
            "Delete the security groups",
            "delete_security_groups",
            "Revoke the rules between the groups, then delete them. DependencyViolation (ENIs "
            "of tasks and load balancers are released minutes later) is retried with back-off, "
            "within a bound.",
            NAME_AND_INVENTORY,
            top_level,
            not_ready="Network interfaces still use the groups: ~1-5 minutes after their tasks "
            "and load balancers go, reports past 10 (bounded: ~25 minutes at most)",
            assign={"deleted": f"$merge([$deleted, {{'security_groups': {RESULT}.deleted}}])"},
        ),
        asl.task(
            "Record the environment as deleted",
            "record_environment_deleted",
            "Registry DELETED and the 'Environment Deleted' event (a rollback leaves both to "
            "its provisioning).",
            {
                "name": "$name",
                "execution_id": "$states.context.Execution.Id",
                "reason": "$reason",
                "summary": "$deleted",
            },
            top_level,
        ),
        asl.succeed(
            "Environment deleted",
            "What was deleted, by kind.",
            {
                "name": "$name",
                "reason": "$reason",
                "outcome": "'deleted'",
                "deleted": "$deleted",
                "deleted_count": "$count($deleted.*)",
                "found": "$inventory.count",
            },
        ),
        asl.fail_with_input(
            TEARDOWN_FAILED, "Names the step; running the teardown again resumes from what is left."
        ),
    )
