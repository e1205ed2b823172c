"""The update machine: validate and claim (refusing infrastructure changes before anything
changes), a new task definition revision, a rolling UpdateService, a bounded wait for the new
deployment, proof that the new revision answers, record. Any failure after the claim puts the
service back on the previous revision; the environment stays READY."""

from __future__ import annotations

from fargate_env import bounds, errors, failures, registry, update
from tools.statemachines import asl, provision
from tools.statemachines.asl import Json, State, x
from tools.statemachines.bounds_check import Loop

RESULT = "$states.result.Payload"
BEGIN = "Begin the update"
CLAIMED = "Was the environment claimed?"
SUPERSEDED = "Superseded by a later request"
ROLE = "Bring the execution role up to date"
REGISTER = "Register the new revision"
ROLL_OUT = "Roll out the new revision"
WAIT_ROLLOUT = "Wait for the rollout"
CHECK_ROLLOUT = "Check the rollout"
ROLLED_OUT = "Is the new revision rolled out?"
GIVE_UP = "Give up waiting for the rollout"
VERIFY = "Verify the new revision answers"
RECORD = "Record the environment as updated"
RECORD_FAILURE = "Roll back and record the failure"
FAILED = "Update failed"
REJECT = "Reject the request"
POLL_BOUND = "$polls >= $maxPolls"

#: What to do after a refusal before the claim, by its error.
NEXT_AFTER_REFUSAL = x(
    f"$states.errorOutput.Error = '{errors.InfrastructureChange.__name__}' ? "
    f"{asl.literal(update.RECREATE)} : $states.errorOutput.Error in [{asl.INPUT_ERRORS}] ? "
    f"{asl.literal(failures.FIX_THE_UPDATE_INPUT)} : {asl.literal(failures.UPDATE_NOTHING_CHANGED)}"
)


def loops() -> list[Loop]:
    """The rollout's wait looks at most MAX_PROVISION_POLLS times at the spec's interval (the
    spec's polling bounds it as the provisioning's waits)."""
    waited = bounds.POLL_DEADLINE_RANGE[1] + bounds.POLL_INTERVAL_RANGE[1]
    return [Loop(frozenset({CHECK_ROLLOUT}), bounds.MAX_PROVISION_POLLS + 1, waited)]


def after_claim(state: str, **fields: str) -> Json:
    """The failure of a state after the claim: the service goes back to the previous revision
    (record_update_failure words what happened from what it did)."""
    return asl.failure(
        state,
        environment="$spec.name",
        resources=update.ROLLED_BACK_TO_PREVIOUS,
        next_step=update.FIX_AND_UPDATE,
        **fields,
    )


def roll_back(state: str) -> list[Json]:
    why = "Remember which step failed and why, then put the previous revision back"
    return [asl.catch(RECORD_FAILURE, why, Assign={"failure": after_claim(state)})]


refuse = asl.refuse_to(
    REJECT,
    "Nothing was changed: fail at once, naming the field or the reason",
    environment=provision.NAMED_IN_INPUT,  # the same input as the provisioning's
    resources=failures.NOTHING_WAS_CHANGED,
    next_step=NEXT_AFTER_REFUSAL,
)


def give_up() -> State:
    message = x(
        "'The new revision was not rolled out within ' & $spec.polling.deadline_seconds & "
        "' seconds: ' & $states.input.summary"
    )
    record = after_claim(CHECK_ROLLOUT, error=asl.DEADLINE_EXCEEDED, message=message)
    state = {
        "Type": "Pass",
        "Comment": "The deadline passed: roll back.",
        "Assign": {"failure": record},
    }
    return GIVE_UP, {**state, "Next": RECORD_FAILURE}


def definition() -> Json:
    return asl.machine(
        "fargate-env: update a READY environment in place (a rolling deployment of a new task "
        "definition revision); a failed update puts the previous revision back.",
        bounds.UPDATE_TIMEOUT_SECONDS,
        asl.task(
            BEGIN,
            "begin_update",
            "The input validated as a provisioning's; changes that need new infrastructure "
            "refused, naming the fields; then registry UPDATING, in the order the requests were "
            "made (superseded by a later teardown, create or update). Nothing changes before.",
            {
                "input": "$states.input",
                "execution_id": "$states.context.Execution.Id",
                "started_at": "$states.context.Execution.StartTime",
            },
            refuse,
            assign={
                "claim": RESULT,
                "spec": f"{RESULT}.spec",
                "resources": f"{RESULT}.resources",
                "previous": f"{RESULT}.previous_task_definition_arn",
                "maxPolls": f"{RESULT}.max_polls",
                "polls": 0,
                "executionId": "$states.context.Execution.Id",
                "failure": None,
            },
        ),
        asl.choice(
            CLAIMED,
            "Superseded: end, nothing changed. Claimed: update.",
            [(f"$claim.outcome = '{registry.SUPERSEDED}'", SUPERSEDED)],
            ROLE,
        ),
        asl.succeed(
            SUPERSEDED,
            "A later request of the name was recorded: nothing was changed (a normal end).",
            {"name": "$spec.name", "outcome": "'superseded'", "message": "$claim.message"},
        ),
        asl.task(
            ROLE,
            "create_execution_role",
            "The environment's execution role with the new spec's secrets and images (the same "
            "step as the provisioning's: it brings an existing role up to date).",
            {"spec": "$spec", "log_group": "$resources.log_group"},
            roll_back,
            assign={"executionRole": RESULT},
        ),
        asl.task(
            REGISTER,
            "register_task_definition",
            "A new revision of the environment's family (the same step as the provisioning's).",
            {
                "spec": "$spec",
                "log_group": "$resources.log_group",
                "execution_role_arn": "$executionRole.arn",
            },
            roll_back,
            assign={"taskDefinition": RESULT},
        ),
        asl.task(
            ROLL_OUT,
            "roll_out_update",
            "UpdateService: the new revision and desired count; rolling (maximum 200%, minimum "
            "healthy 100%), circuit breaker with rollback.",
            {
                "spec": "$spec",
                "resources": "$resources",
                "task_definition_arn": "$taskDefinition.arn",
            },
            roll_back,
        ),
        asl.wait(WAIT_ROLLOUT, "At the spec's polling interval.", "$spec.polling.interval_seconds"),
        asl.task(
            CHECK_ROLLOUT,
            "check_rollout",
            "One look: the new revision's deployment COMPLETED with healthy targets; rolled "
            "back by the circuit breaker, or tasks that keep stopping, fail it with the reasons.",
            {
                "cluster_arn": "$resources.cluster.arn",
                "service_name": "$resources.service.name",
                "task_definition_arn": "$taskDefinition.arn",
                "target_group_arns": "[$resources.load_balancers.target_group_arn]",
            },
            roll_back,
            assign={"polls": "$polls + 1", "ready": f"{RESULT}.ready"},
            output=RESULT,
        ),
        asl.choice(
            ROLLED_OUT,
            "Rolled out: verify. Deadline passed: roll back. Otherwise look again.",
            [("$ready", VERIFY), (POLL_BOUND, GIVE_UP)],
            WAIT_ROLLOUT,
        ),
        give_up(),
        asl.task(
            VERIFY,
            "verify_update",
            "Every load balancer answers, and every healthy target runs the new revision.",
            {
                "spec": "$spec",
                "resources": "$resources",
                "task_definition_arn": "$taskDefinition.arn",
            },
            roll_back,
            assign={"verification": RESULT},
        ),
        asl.task(
            RECORD,
            "record_environment_updated",
            "Old revisions cleaned (the last few kept), registry READY with the revision (image, "
            "when, which execution), the 'Environment Updated' event.",
            {
                "spec": "$spec",
                "execution_id": "$executionId",
                "resources": "$resources",
                "task_definition": "$taskDefinition",
                "url": "$verification.url",
                "at": "$states.context.State.EnteredTime",
            },
            roll_back,
            assign={"recorded": RESULT},
        ),
        asl.succeed(
            "Environment updated",
            "The new revision answers.",
            {
                "name": "$spec.name",
                "outcome": "'updated'",
                "url": "$verification.url",
                "revision": "$verification.revision",
                "previous_revision": "$substringAfter($previous, 'task-definition/')",
                "verification": "$verification.checks",
            },
        ),
        asl.task(
            RECORD_FAILURE,
            "record_update_failure",
            "The service back on the previous revision, registry READY with the failure, the "
            "'Environment Update Failed' event, and the failure the execution fails with.",
            {
                "spec": "$spec",
                "execution_id": "$executionId",
                "failure": "$failure",
                "resources": "$resources",
                "previous_task_definition_arn": "$previous",
            },
            asl.still_fail(FAILED, UNRECORDED),
            assign={"outcome": RESULT},
        ),
        asl.fail_with_outcome(
            FAILED,
            "Names the failed step, the error and its message, and what happened to the service.",
        ),
        asl.fail_with_input(REJECT, "Invalid input, an infrastructure change, or a busy name."),
    )


#: The failure "Roll back and record the failure" would have reported, when it failed too: the
#: service may still run the new revision.
UNRECORDED = f"$string($merge([$failure, {{'resources': {asl.literal(update.ROLLBACK_FAILED)}}}]))"
