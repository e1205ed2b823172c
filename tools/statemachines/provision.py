"""The provisioning machine: validate, claim, create in parallel, wait, verify, record; any
failure after the claim goes to one compensation path (the teardown machine, nested)."""

from __future__ import annotations

from fargate_env import bounds, errors, failures, registry
from tools.statemachines import asl
from tools.statemachines.asl import Json, State, x
from tools.statemachines.bounds_check import Loop

RESULT = "$states.result.Payload"
SPEC = {"spec": "$spec"}
SPEC_AND_NETWORK = {"spec": "$spec", "network": "$network"}
LOAD_BALANCERS_OUT = "[$resources.load_balancers.{'id': id, 'dns_name': dns_name, 'url': url}]"

CHECK_LOAD_BALANCERS = "Check the load balancers are active"
CHECK_SERVICE = "Check the service is stable"
WAIT_LOAD_BALANCERS = "Wait for the load balancers to be active"
WAIT_SERVICE = "Wait for the service to be stable"
CLAIM = "Claim the environment name"
CLAIMED = "Was the name claimed?"
WAIT_FOR_TEARDOWN = "Wait for the teardown to finish"
GIVE_UP_ON_TEARDOWN = "Give up waiting for the teardown"
SUPERSEDED = "Superseded by a later teardown"
CHECK_NETWORK = "Check the network and prerequisites"
COMPENSATE = "Roll back or retain?"
RECORD_FAILURE = "Record the failure"
FAILED = "Provisioning failed"
REJECT = "Reject the request"
ROLLBACK = "Roll back what this execution created"
STOP_LOAD_BALANCERS = "Stop the load balancer branch"
STOP_TASK_DEFINITION = "Stop the task definition branch"
STOP_CLUSTER = "Stop the cluster branch"
STOP_ONE = "Stop this load balancer"
RUN_PRE_TRAFFIC = "Run the pre-traffic task"
WAIT_PRE_TRAFFIC = "Wait for the pre-traffic task"
CHECK_PRE_TRAFFIC = "Check the pre-traffic task"
PRE_TRAFFIC_DONE = "Has the pre-traffic task finished?"
GIVE_UP_PRE_TRAFFIC = "Give up waiting for the pre-traffic task"
CREATE_SERVICE = "Create the service"
POLL_BOUND = "$polls >= $maxPolls"
POLL_COMMENT = "Poll at the spec's interval; bounded by the spec's deadline (maxPolls)."
STOPPED = "A step failed: report it in the output."


def loops() -> list[Loop]:
    """Both waits count one `polls`: at most maxPolls + 1 looks in all (the service's first look
    may follow the load balancers' last), and at most maxPolls Waits of the spec's interval,
    which add up to less than the longest deadline plus one interval. The claim comes back
    while an earlier teardown of the name runs, at most TEARDOWN_WAIT.max_polls times."""
    waited = bounds.POLL_DEADLINE_RANGE[1] + bounds.POLL_INTERVAL_RANGE[1]
    checks = frozenset({CHECK_LOAD_BALANCERS, CHECK_SERVICE})
    timeouts = range(bounds.PRE_TRAFFIC_TIMEOUT_RANGE[0], bounds.PRE_TRAFFIC_TIMEOUT_RANGE[1] + 1)
    pre_traffic = [bounds.pre_traffic_polling(timeout) for timeout in timeouts]
    return [
        Loop(frozenset({CLAIM}), bounds.TEARDOWN_WAIT.max_polls),
        Loop(checks, bounds.MAX_PROVISION_POLLS + 1, waited),
        # Its own count: at most max_polls looks of the run step's interval, whatever the timeout.
        Loop(
            frozenset({CHECK_PRE_TRAFFIC}),
            max(polling.max_polls for polling in pre_traffic),
            max(polling.max_polls * polling.interval_seconds for polling in pre_traffic),
        ),
    ]


#: What happens to the resources of a provisioning that fails after its claim, and what to do
#: (record_provisioning_failure words it from the rollback's result; these are what its Catch
#: records, and what the execution says when recording the failure failed too).
RESOURCES_AFTER_CLAIM = x(
    f"$spec.on_failure = 'retain' ? {asl.literal(failures.RETAINED)} : $rollback.status = "
    f"'FAILED' ? {asl.literal(failures.ROLLBACK_FAILED)} : {asl.literal(failures.ROLLED_BACK)}"
)
_RESUME = asl.to_jsonata(asl.text(failures.RESUME_OR_CLEAN_UP, name="$spec.name"))
_CLEAN_UP = asl.to_jsonata(asl.text(failures.CLEAN_UP_AFTER_ROLLBACK, name="$spec.name"))
NEXT_AFTER_CLAIM = x(
    f"$spec.on_failure = 'retain' ? {_RESUME} : $rollback.status = 'FAILED' ? {_CLEAN_UP} : "
    f"{asl.literal(failures.FIX_AND_RETRY)}"
)
#: The environment an input names, before it is validated (null when it names none).
NAMED_IN_INPUT = x(
    "$type($states.input.spec.name) = 'string' ? $states.input.spec.name : "
    "$type($states.input.detail.spec.name) = 'string' ? $states.input.detail.spec.name : null"
)


def after_claim(state: str, **fields: str) -> Json:
    """The failure of a state after the claim (compensation completes its resources)."""
    return asl.failure(
        state,
        environment="$spec.name",
        resources=RESOURCES_AFTER_CLAIM,
        next_step=NEXT_AFTER_CLAIM,
        **fields,
    )


def compensate(state: str) -> list[Json]:
    why = "Remember which step failed and why, then compensate"
    return [asl.catch(COMPENSATE, why, Assign={"failure": after_claim(state)})]


def reject(state: str, environment: str, next_step: str, *errors: str) -> Json:
    record = asl.failure(
        state, environment=environment, resources=failures.NONE_CREATED, next_step=next_step
    )
    why = "Nothing was created or changed: fail at once"
    return asl.catch(REJECT, why, *errors, Output=asl.failed_with(record))


def report_in_branch(stop: str) -> asl.Catcher:
    """Inside the parallel creates: end the branch with the failure in its output, so no
    sibling is cut off mid-create and compensation sees everything."""
    why = "End this branch reporting the failure"
    return lambda state: [asl.catch(stop, why, Output={"failure": after_claim(state)})]


def create_each_load_balancer() -> State:
    in_map = report_in_branch(STOP_ONE)
    processor = asl.scope(
        asl.task(
            "Create the target group",
            "create_target_group",
            "IP targets (ECS registers each task's IP), the health check, deregistration delay "
            "and stickiness.",
            {**SPEC_AND_NETWORK, "load_balancer": "$states.input.load_balancer"},
            in_map,
            assign={
                "lb": "$states.input.load_balancer",
                "securityGroupId": "$states.input.security_group_id",
                "targetGroup": RESULT,
            },
        ),
        asl.task(
            "Create the load balancer",
            "create_load_balancer",
            "Create it and move on: it becomes active on its own (~150 s for an ALB), the "
            "listener and the service need not wait.",
            {**SPEC_AND_NETWORK, "load_balancer": "$lb", "security_group_id": "$securityGroupId"},
            in_map,
            not_ready="Shared mode: executions placed at once racing for the last slots, or "
            "making one new gateway's listener at once (the loser adopts it)",
            assign={"created": RESULT},
        ),
        asl.task(
            "Create the listeners",
            "create_listeners",
            "Listeners forwarding to the target group (or redirecting HTTP to HTTPS), while the "
            "load balancer provisions.",
            {
                **SPEC,
                "load_balancer": "$lb",
                "created": "$created",
                "target_group_arn": "$targetGroup.arn",
            },
            in_map,
            then=asl.END,
            output="$merge([$created, {'target_group_arn': $targetGroup.arn, 'target_group_name': "
            f"$targetGroup.name, 'listener_arns': {RESULT}.listener_arns, 'url': {RESULT}.url, "
            # shared mode: how the check reaches it (its host name through the gateway's)
            f"'gateway': {RESULT}.gateway}}])",
        ),
        asl.succeed(
            STOP_ONE,
            "A step failed: report it in the output; compensation runs after every branch has "
            "finished.",
        ),
    )
    item = "$states.context.Map.Item.Value"
    state: Json = {
        "Type": "Map",
        "Comment": "Target group, load balancer and listeners, for every load balancer of the "
        "spec at once.",
        "Items": x("$spec.load_balancers"),
        "ItemSelector": {
            "load_balancer": x(item),
            # Shared mode makes no group of its own for the load balancer (its gateway has one).
            "security_group_id": x(
                f"($group := $lookup($states.input.security_groups.load_balancers, {item}.id); "
                "$exists($group) ? $group : null)"
            ),
        },
        "MaxConcurrency": 0,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, **processor},
        "Output": asl.exprs(
            {"security_groups": "$states.input.security_groups", "load_balancers": "$states.result"}
        ),
    }
    state["Catch"] = report_in_branch(STOP_LOAD_BALANCERS)("Create each load balancer")
    return "Create each load balancer", {**state, "End": True}


def create_the_building_blocks() -> State:
    load_balancer_branch = asl.scope(
        asl.task(
            "Create the security groups",
            "create_security_groups",
            "Each load balancer's group admits its listener ports from the ingress CIDRs; the "
            "tasks' group admits only the container port, only from those groups.",
            SPEC_AND_NETWORK,
            report_in_branch(STOP_LOAD_BALANCERS),
            output={"security_groups": RESULT},
        ),
        create_each_load_balancer(),
        asl.succeed(STOP_LOAD_BALANCERS, STOPPED),
    )
    task_definition_branch = asl.scope(
        asl.task(
            "Create the log group",
            "create_log_group",
            "Where the tasks' logs go (awslogs driver), with the spec's retention.",
            SPEC,
            report_in_branch(STOP_TASK_DEFINITION),
            output={"log_group": f"{RESULT}.name"},
        ),
        asl.task(
            "Create the execution role",
            "create_execution_role",
            "The environment's own role for ECS: its images, its log group and only the secrets "
            "its spec names, within the deployment's permissions boundary.",
            {**SPEC, "log_group": "$states.input.log_group"},
            report_in_branch(STOP_TASK_DEFINITION),
            output={"log_group": "$states.input.log_group", "execution_role": RESULT},
        ),
        asl.task(
            "Register the task definition",
            "register_task_definition",
            "The blueprint: the containers (image, command, environment, secrets, health "
            "checks, dependencies), CPU/memory, volumes; Fargate, awsvpc, the roles.",
            {
                **SPEC,
                "log_group": "$states.input.log_group",
                "execution_role_arn": "$states.input.execution_role.arn",
            },
            report_in_branch(STOP_TASK_DEFINITION),
            output={
                "log_group": "$states.input.log_group",
                "execution_role": "$states.input.execution_role",
                "task_definition": RESULT,
            },
            then=asl.END,
        ),
        asl.succeed(STOP_TASK_DEFINITION, STOPPED),
    )
    cluster_branch = asl.scope(
        asl.task(
            "Create the cluster",
            "create_cluster",
            "Fargate capacity providers, Container Insights.",
            SPEC,
            report_in_branch(STOP_CLUSTER),
            output={"cluster": RESULT},
            then=asl.END,
        ),
        asl.succeed(STOP_CLUSTER, STOPPED),
    )
    return asl.parallel(
        "Create the building blocks",
        "Independent creates at once. A failing step ends its branch with a report instead of "
        "failing it, so no sibling is cut off mid-create and compensation sees everything.",
        [load_balancer_branch, task_definition_branch, cluster_branch],
        compensate,
        {
            "resources": "$merge([$resources, {'security_groups': $states.result[0].security_groups"
            ", 'load_balancers': [$states.result[0].load_balancers[$exists(arn)]], 'log_group': "
            "$states.result[1].log_group, 'execution_role': $states.result[1].execution_role, "
            "'task_definition': $states.result[1].task_definition, "
            "'cluster': $states.result[2].cluster}])",
            "failure": "($failures := $append($states.result.failure, "
            "$states.result.load_balancers.failure); $exists($failures[0]) ? $failures[0] : null)",
        },
    )


def poll(name: str, step: str, comment: str, payload: Json) -> State:
    """One look of a bounded wait: counts the poll, keeps whether it is ready."""
    count = {"polls": "$polls + 1", "ready": f"{RESULT}.ready"}
    return asl.task(name, step, comment, payload, compensate, assign=count, output=RESULT)


def keep_polling(name: str, comment: str, ready: str, give_up: str, wait: str) -> State:
    return asl.choice(name, comment, [("$ready", ready), (POLL_BOUND, give_up)], wait)


def run_the_pre_traffic_task() -> list[State]:
    """The spec's one-off command as a task of the environment, once the task definition and
    the cluster exist and before the service does; looked at every interval the run step says,
    at most max_polls times (the check step itself stops it at its timeout, with its logs)."""
    looked = "$preTrafficPolls >= $preTrafficTask.max_polls"
    message = x(
        "'The pre-traffic task was still running after ' & $preTrafficTask.timeout_seconds & "
        "' seconds: ' & $preTrafficTask.task_arn"
    )
    record = after_claim(CHECK_PRE_TRAFFIC, error=asl.DEADLINE_EXCEEDED, message=message)
    give_up_state = {
        "Type": "Pass",
        "Comment": "The bound passed: compensate (the teardown stops the task).",
        "Assign": {"failure": record},
        "Next": COMPENSATE,
    }
    return [
        asl.task(
            RUN_PRE_TRAFFIC,
            "run_pre_traffic_task",
            "The command (a migration, a seed) as a task of the environment's own task "
            "definition: same image, network, secrets and role; on demand Fargate.",
            {
                **SPEC_AND_NETWORK,
                "cluster_arn": "$resources.cluster.arn",
                "task_definition_arn": "$resources.task_definition.arn",
                "tasks_security_group_id": "$resources.security_groups.tasks",
                "command": "$spec.pre_traffic_task.command",
                "timeout_seconds": "$spec.pre_traffic_task.timeout_seconds",
            },
            compensate,
            assign={"preTrafficTask": RESULT, "preTrafficPolls": 0},
        ),
        asl.wait(
            WAIT_PRE_TRAFFIC,
            "At the run step's interval (longer for a long timeout: bounded looks).",
            "$preTrafficTask.interval_seconds",
        ),
        asl.task(
            CHECK_PRE_TRAFFIC,
            "check_pre_traffic_task",
            "One look: exit code 0 goes on; another code, or the timeout (the task is then "
            "stopped), fails with the task's last log lines.",
            {"task": "$preTrafficTask"},
            compensate,
            assign={"preTrafficPolls": "$preTrafficPolls + 1", "preTraffic": RESULT},
        ),
        asl.choice(
            PRE_TRAFFIC_DONE,
            "Done: create the service. Bound reached: give up. Otherwise look again.",
            [("$preTraffic.stopped", CREATE_SERVICE), (looked, GIVE_UP_PRE_TRAFFIC)],
            WAIT_PRE_TRAFFIC,
        ),
        (GIVE_UP_PRE_TRAFFIC, give_up_state),
    ]


def give_up(name: str, check: str, what: str) -> State:
    """The deadline passed: the failure quotes the last look's summary."""
    within = asl.to_jsonata(f"{what} within ")
    message = x(f"{within} & $spec.polling.deadline_seconds & ' seconds: ' & $states.input.summary")
    record = after_claim(check, error=asl.DEADLINE_EXCEEDED, message=message)
    passed = "The deadline passed: compensate."
    state = {"Type": "Pass", "Comment": passed, "Assign": {"failure": record}}
    return name, {**state, "Next": COMPENSATE}


def definition() -> Json:
    interval = "$spec.polling.interval_seconds"
    return asl.machine(
        "fargate-env: provision a load balancer in front of an ECS Fargate service, prove the "
        "page answers, and roll back on failure.",
        bounds.PROVISION_TIMEOUT_SECONDS,
        asl.task(
            "Validate the environment spec",
            "validate_spec",
            "Parse the spec, fill in defaults, reject bad input naming every field - before any "
            "AWS write. The request's time: its own, its event's, or this execution's start.",
            {"input": "$states.input", "started_at": "$states.context.Execution.StartTime"},
            lambda state: [reject(state, NAMED_IN_INPUT, failures.FIX_THE_INPUT)],
            assign={
                "spec": f"{RESULT}.spec",
                "requestedAt": f"{RESULT}.requested_at",
                "claimPolls": 0,
                "executionName": "$states.context.Execution.Name",
                "executionId": "$states.context.Execution.Id",
                "maxPolls": f"$ceil({RESULT}.spec.polling.deadline_seconds / "
                f"{RESULT}.spec.polling.interval_seconds)",
                "polls": 0,
                "resources": {},
                "failure": None,
                "rollback": None,
                "preTraffic": None,
            },
        ),
        asl.task(
            CLAIM,
            "claim_environment",
            "One execution per environment, in the order the requests were made: superseded by "
            "a teardown requested at or after it; waits for an earlier teardown still running; "
            "fails fast, touching nothing, when the name is being created or ready.",
            {**SPEC, "execution_id": "$executionId", "requested_at": "$requestedAt"},
            lambda state: [
                reject(
                    state, "$spec.name", failures.NOTHING_CHANGED, errors.EnvironmentBusy.__name__
                ),
                *compensate(state),
            ],
            assign={"claim": RESULT, "claimPolls": "$claimPolls + 1"},
        ),
        asl.choice(
            CLAIMED,
            "Claimed: create. Superseded: end, nothing changed. An earlier teardown still "
            "running: wait for it, within a bound.",
            [
                (f"$claim.outcome = '{registry.SUPERSEDED}'", SUPERSEDED),
                (
                    f"$claim.outcome = '{registry.WAITING}' and $claimPolls >= "
                    f"{bounds.TEARDOWN_WAIT.max_polls}",
                    GIVE_UP_ON_TEARDOWN,
                ),
                (f"$claim.outcome = '{registry.WAITING}'", WAIT_FOR_TEARDOWN),
            ],
            CHECK_NETWORK,
        ),
        asl.bounded_wait(WAIT_FOR_TEARDOWN, bounds.TEARDOWN_WAIT, CLAIM),
        asl.fail(
            GIVE_UP_ON_TEARDOWN,
            f"The earlier teardown did not finish within {TEARDOWN_WAIT_HOURS}.",
            **asl.failed_with(
                asl.failure(
                    CLAIM,
                    environment="$spec.name",
                    error=errors.EnvironmentBusy.__name__,
                    message=asl.text(
                        f"The teardown of {{name}} was still running after {TEARDOWN_WAIT_HOURS}; "
                        "nothing was created.",
                        name="$spec.name",
                    ),
                    resources=failures.NONE_CREATED,
                    next_step=failures.NOTHING_CHANGED,
                )
            ),
        ),
        asl.succeed(
            SUPERSEDED,
            "A teardown of the name was requested at or after this create: nothing was "
            "created or changed (a normal end, not a failure).",
            {"name": "$spec.name", "outcome": "'superseded'", "message": "$claim.message"},
        ),
        asl.task(
            CHECK_NETWORK,
            "resolve_network",
            "The VPC and subnets (the default VPC and its default subnets unless the spec names "
            "others); every certificate, secret and file system the spec refers to must exist.",
            SPEC,
            compensate,
            assign={
                "network": RESULT,
                "resources": f"$merge([$resources, {{'network': {RESULT}}}])",
            },
        ),
        create_the_building_blocks(),
        asl.choice(
            "Did every building block succeed?",
            "Any branch that reported a failure sends the execution to compensation; a spec "
            "with a pre-traffic command runs it before the service takes traffic.",
            [("$failure != null", COMPENSATE), ("$spec.pre_traffic_task != null", RUN_PRE_TRAFFIC)],
            CREATE_SERVICE,
        ),
        *run_the_pre_traffic_task(),
        asl.task(
            CREATE_SERVICE,
            "create_service",
            "Subnets, the tasks' security group, and each target group -> container:port. "
            "Created while the load balancers still provision.",
            {
                **SPEC_AND_NETWORK,
                "cluster_arn": "$resources.cluster.arn",
                "task_definition_arn": "$resources.task_definition.arn",
                "target_groups": "[$resources.load_balancers.{'id': id, 'arn': target_group_arn}]",
                "tasks_security_group_id": "$resources.security_groups.tasks",
            },
            compensate,
            not_ready="A same-name service from an earlier environment is still draining",
            assign={"resources": f"$merge([$resources, {{'service': {RESULT}}}])"},
        ),
        asl.wait(WAIT_LOAD_BALANCERS, POLL_COMMENT, interval),
        poll(
            CHECK_LOAD_BALANCERS,
            "wait_load_balancers_active",
            "One look: is every load balancer active?",
            {"load_balancer_arns": "[$resources.load_balancers.arn]"},
        ),
        keep_polling(
            "Are the load balancers active?",
            "Active: check the service. Deadline passed: give up. Otherwise poll again.",
            CHECK_SERVICE,
            "Give up waiting for the load balancers",
            WAIT_LOAD_BALANCERS,
        ),
        give_up(
            "Give up waiting for the load balancers",
            CHECK_LOAD_BALANCERS,
            "The load balancers were not active",
        ),
        poll(
            CHECK_SERVICE,
            "wait_service_stable",
            "One look: deployment COMPLETED, runningCount == desiredCount, targets healthy. "
            "Tasks that keep stopping fail it with their reasons.",
            {
                "cluster_arn": "$resources.cluster.arn",
                "service_name": "$resources.service.name",
                "target_group_arns": "[$resources.load_balancers.target_group_arn]",
            },
        ),
        keep_polling(
            "Is the service stable?",
            "Stable: verify the page. Deadline passed: give up. Otherwise poll again.",
            "Verify the endpoint answers",
            "Give up waiting for the service",
            WAIT_SERVICE,
        ),
        asl.wait(WAIT_SERVICE, POLL_COMMENT, interval, CHECK_SERVICE),
        give_up(
            "Give up waiting for the service",
            CHECK_SERVICE,
            "The service was not stable",
        ),
        asl.task(
            "Verify the endpoint answers",
            "verify_endpoint",
            "Each load balancer's targets healthy, and an HTTP GET from here or from inside the "
            "VPC where the deployment has a probe, within the function's time.",
            {"spec": "$spec", "load_balancers": "$resources.load_balancers", "network": "$network"},
            compensate,
            assign={"verification": RESULT},
        ),
        asl.task(
            "Record the environment as ready",
            "record_environment_ready",
            "Registry READY, the expiry schedule (time to live) and the 'Environment Ready' event.",
            {
                **SPEC,
                "execution_id": "$executionId",
                "outcome": {
                    "resources": "$resources",
                    "url": "$verification.url",
                    "load_balancers": LOAD_BALANCERS_OUT,
                },
            },
            compensate,
            assign={"expiry": RESULT},
        ),
        asl.succeed(
            "Environment ready",
            "The URL answers. Teardown takes this output (or just the name).",
            {
                "name": "$spec.name",
                "outcome": "'ready'",
                "url": "$verification.url",
                "load_balancers": LOAD_BALANCERS_OUT,
                "verification": "$verification.checks",
                "expires_at": "$expiry.expires_at",
                "pre_traffic_task": "$preTraffic",
                "resources": "$resources",
            },
        ),
        asl.choice(
            COMPENSATE,
            "on_failure: rollback removes what this execution created; retain keeps it for "
            "inspection.",
            [("$spec.on_failure = 'retain'", RECORD_FAILURE)],
            ROLLBACK,
        ),
        roll_back(),
        asl.task(
            RECORD_FAILURE,
            "record_provisioning_failure",
            "Registry FAILED with the cause, the 'Environment Failed' event, and the summary the "
            "execution fails with.",
            {
                **SPEC,
                "execution_id": "$executionId",
                "failure": "$failure",
                "resources": "$resources",
                "rollback": "$rollback",
            },
            asl.still_fail(FAILED, UNRECORDED),
            assign={"outcome": RESULT},
        ),
        asl.fail_with_outcome(
            FAILED,
            "Names the failed step, the original error and cause, and what happened to the "
            "resources.",
        ),
        asl.fail_with_input(
            REJECT, "Invalid spec, or the environment name is busy: nothing was created or changed."
        ),
    )


TEARDOWN_WAIT_HOURS = asl.hours(bounds.TEARDOWN_WAIT)
#: The failure "Record the failure" would have reported, when reporting it failed: the one
#: its Catch recorded, with what the rollback did.
UNRECORDED = (
    f"$string($merge([$failure, {{'resources': {asl.to_jsonata(RESOURCES_AFTER_CLAIM)}, "
    f"'next': {asl.to_jsonata(NEXT_AFTER_CLAIM)}}}]))"
)


def roll_back() -> State:
    """The teardown machine itself, nested; a rollback that fails is reported, not retried."""
    state: Json = {
        "Type": "Task",
        "Comment": "The teardown machine itself (one tested path): recorded ids plus name and "
        "tag lookups, so the half-made resource of the failed step goes too.",
        "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Arguments": {
            "StateMachineArn": "${TeardownStateMachineArn}",
            "Name": x("$substring($executionName, 0, 71) & '-rollback'"),
            "Input": {
                "name": x("$spec.name"),
                "resources": x("$resources"),
                "reason": "rollback",
                "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": x("$states.context.Execution.Id"),
            },
        },
        "TimeoutSeconds": bounds.ROLLBACK_TIMEOUT_SECONDS,
    }
    refusals = ["SdkClient", "ExecutionLimitExceeded", "AWSStepFunctions"]
    started = tuple(f"StepFunctions.{refusal}Exception" for refusal in refusals)
    why = "Step Functions service errors while starting the rollback"
    state["Retry"] = [asl.retrier(started, bounds.ROLLBACK_START_RETRY, why)]
    output = "$states.result.Output"
    done = {"deleted": f"{output}.deleted", "deleted_count": f"{output}.deleted_count"}
    state["Assign"] = {"rollback": {"status": "SUCCEEDED", **asl.exprs(done)}}
    state["Output"] = {}
    failed = {"status": "FAILED", "error": asl.ERROR, "cause": asl.CAUSE}
    why = "Report a failed rollback too; the teardown can be re-run."
    state["Catch"] = [asl.catch(RECORD_FAILURE, why, Assign={"rollback": failed})]
    return ROLLBACK, {**state, "Next": RECORD_FAILURE}
