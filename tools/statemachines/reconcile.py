"""The reconcile machine (the reaper, fargate_env/reconcile.py): find what was forgotten, then
start the existing teardown for each (or, for a dry run, start nothing) and publish the report.
It never waits on the teardowns it starts: each is an execution of its own."""

from __future__ import annotations

from fargate_env import bounds, failures
from tools.statemachines import asl
from tools.statemachines.asl import Json
from tools.statemachines.bounds_check import Loop

RESULT = "$states.result.Payload"
FIND = "Find what was forgotten"
REAP = "Start the teardowns and report"
FAILED = "Reconcile failed"
#: An input refused: say what it takes; anything else: run it again.
NEXT_AFTER_FIND_FAILED = asl.after_input_error(
    failures.FIX_THE_RECONCILE_INPUT, failures.RUN_RECONCILE_AGAIN
)


def loops() -> list[Loop]:
    """No loop: two steps, each bounded by its Task timeout and retries."""
    return []


def definition() -> Json:
    return asl.machine(
        "fargate-env: the reaper. Finds stale claims, expired environments whose schedule is "
        "missing and resources tagged as this deployment's with no environment; starts the "
        "teardown machine for each (never deletes itself); a dry run starts nothing.",
        bounds.RECONCILE_TIMEOUT_SECONDS,
        asl.task(
            FIND,
            "find_leftovers",
            "The input validated (dry_run only); the registry, the claims' executions, the "
            "expiry schedules and the Tagging API read. Nothing changes.",
            {"input": "$states.input"},
            asl.refuse_to(
                FAILED,
                "Nothing was started: name the field or the error",
                environment="null",
                resources=failures.RECONCILE_NOTHING_STARTED,
                next_step=NEXT_AFTER_FIND_FAILED,
            ),
            assign={"plan": RESULT},
        ),
        asl.task(
            REAP,
            "reap_leftovers",
            "Unless a dry run: a teardown execution started per leftover (at most "
            f"{bounds.MAX_TEARDOWNS_PER_RUN}, the rest deferred), stale updates of a serving "
            "environment back to READY. Then the 'Reconcile Report' event.",
            {"plan": "$plan", "execution_id": "$states.context.Execution.Id"},
            asl.refuse_to(
                FAILED,
                "Name the step and the error",
                environment="null",
                resources=failures.RECONCILE_PARTLY_STARTED,
                next_step=failures.RUN_RECONCILE_AGAIN,
            ),
            output=RESULT,
        ),
        asl.succeed("Reconciled", "The report: what was found, by kind, and what was done."),
        asl.fail_with_input(FAILED, "Names the step and the error."),
    )
