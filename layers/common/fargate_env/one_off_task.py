"""A one-off task of the environment's own task definition: the same image, network, secrets
and roles as the service's tasks, the main container's command replaced (a migration, a seed).
`start` runs it, `check` looks at it once - the state machine polls with a bound - and its exit
code and the tail of its logs decide. The provisioning runs one before traffic; the update flow
runs one again when the spec says so (same calls, another token).

A task is found again by its `startedBy` marker (made from the execution's token), so a retried
step never starts a second one; the teardown stops any still running (`stop_all`).
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

from fargate_env import bounds, clock, naming
from fargate_env.aws import client
from fargate_env.errors import AwsRequestFailed, OneOffTaskFailed, or_none_on
from fargate_env.payloads import OneOffTaskRun

#: ECS startedBy is at most 36 characters: this prefix and 26 of the token's digest.
STARTED_BY_PREFIX: Final = "fenv-once-"
LOG_LINES: Final = 20
#: The tail goes into the failure's cause and the execution's output: keep it small.
LOG_TAIL_CHARS: Final = 2000


def started_by(token: str) -> str:
    return STARTED_BY_PREFIX + hashlib.sha256(token.encode()).hexdigest()[:26]


def _find(cluster_arn: str, marker: str) -> str | None:
    ecs = client("ecs")
    for status in ("RUNNING", "STOPPED"):
        arns = ecs.list_tasks(cluster=cluster_arn, startedBy=marker, desiredStatus=status)
        if arns["taskArns"]:
            return str(arns["taskArns"][0])
    return None


def start(run: OneOffTaskRun, label: str) -> dict[str, Any]:
    """Run the command as a task of the environment's task definition (once per execution);
    returns what `check` needs, and how often and how many times to look."""
    spec, network, cluster_arn = run["spec"], run["network"], run["cluster_arn"]
    task_definition_arn, security_group_id = (
        run["task_definition_arn"],
        run["tasks_security_group_id"],
    )
    command, timeout_seconds, token = run["command"], run["timeout_seconds"], run["execution_name"]
    env, container = spec["name"], spec["container"]["name"]
    marker = started_by(token)
    task_arn = _find(cluster_arn, marker)
    if task_arn is None:
        ran = client("ecs").run_task(
            cluster=cluster_arn,
            taskDefinition=task_definition_arn,
            count=1,
            # On demand: a Spot interruption must not cut a migration short.
            launchType="FARGATE",
            platformVersion="LATEST",
            networkConfiguration={
                "awsvpcConfiguration": {
                    "subnets": network["subnet_ids"],
                    "securityGroups": [security_group_id],
                    "assignPublicIp": "ENABLED"
                    if spec["service"]["assign_public_ip"]
                    else "DISABLED",
                }
            },
            overrides={"containerOverrides": [{"name": container, "command": list(command)}]},
            startedBy=marker,
            tags=naming.as_ecs_tags(naming.environment_tags(env, spec["tags"])),
        )
        if ran.get("failures") or not ran.get("tasks"):
            raise AwsRequestFailed(f"RunTask did not start the {label}: {ran.get('failures')}")
        task_arn = ran["tasks"][0]["taskArn"]
    polling = bounds.pre_traffic_polling(timeout_seconds)
    return {
        "label": label,
        "task_arn": task_arn,
        "cluster_arn": cluster_arn,
        "container": container,
        "log_group": naming.log_group_name(env),
        # The awslogs driver's stream: <prefix>/<container>/<task id>.
        "log_stream": f"{env}/{container}/{task_arn.rsplit('/', 1)[-1]}",
        "timeout_seconds": timeout_seconds,
        "deadline": clock.now() + timeout_seconds,
        "interval_seconds": polling.interval_seconds,
        "max_polls": polling.max_polls,
    }


def log_tail(log_group: str, log_stream: str) -> list[str]:
    """The last lines the task wrote (none yet: the stream does not exist)."""
    answer = or_none_on(
        ("ResourceNotFoundException",),
        lambda: client("logs").get_log_events(
            logGroupName=log_group, logStreamName=log_stream, limit=LOG_LINES, startFromHead=False
        ),
    )
    if answer is None:
        return []
    lines = [str(event["message"]).rstrip("\n") for event in answer["events"]]
    while lines and sum(len(line) + 1 for line in lines) > LOG_TAIL_CHARS:
        lines.pop(0)
    return lines


def _failed(task: dict[str, Any], what: str, tail: list[str]) -> OneOffTaskFailed:
    shown = " | ".join(tail) if tail else "(no log lines)"
    task_id = task["task_arn"].rsplit("/", 1)[-1]
    return OneOffTaskFailed(f"the {task['label']} {task_id} {what}; last log lines: {shown}")


def check(task: dict[str, Any]) -> dict[str, Any]:
    """One look: stopped with exit code 0 is done; stopped otherwise, or still running past its
    deadline (then it is stopped), raises OneOffTaskFailed with the tail of its logs."""
    ecs = client("ecs")
    found = ecs.describe_tasks(cluster=task["cluster_arn"], tasks=[task["task_arn"]])["tasks"]
    if not found:
        raise OneOffTaskFailed(f"the {task['label']} {task['task_arn']} is not known to ECS")
    status = found[0].get("lastStatus")
    if status == "STOPPED":
        tail = log_tail(task["log_group"], task["log_stream"])
        container: dict[str, Any] = next(
            (c for c in found[0].get("containers", []) if c.get("name") == task["container"]), {}
        )
        exit_code = container.get("exitCode")
        if exit_code == 0:
            return {"stopped": True, "status": status, "exit_code": 0, "log_tail": tail}
        reason = container.get("reason") or found[0].get("stoppedReason") or "stopped"
        raise _failed(task, f"exited with code {exit_code} ({reason})", tail)
    if clock.now() >= task["deadline"]:
        timeout = task["timeout_seconds"]
        ecs.stop_task(
            cluster=task["cluster_arn"],
            task=task["task_arn"],
            reason=f"fargate-env: still running after its timeout of {timeout} s",
        )
        tail = log_tail(task["log_group"], task["log_stream"])
        raise _failed(task, f"did not finish within {timeout} s and was stopped", tail)
    return {"stopped": False, "status": status, "exit_code": None, "log_tail": []}


def stop_all(cluster_arn: str | None) -> list[str]:
    """Stop every one-off task still running in the cluster (the service's are not touched:
    deleting the service drains them)."""
    if cluster_arn is None:
        return []
    ecs = client("ecs")
    running = or_none_on(
        ("ClusterNotFoundException",),
        lambda: ecs.list_tasks(cluster=cluster_arn, desiredStatus="RUNNING"),
    )
    if running is None:
        return []
    arns = running["taskArns"]
    stopped = []
    for begin in range(0, len(arns), 100):
        described = ecs.describe_tasks(cluster=cluster_arn, tasks=arns[begin : begin + 100])
        for found in described["tasks"]:
            if str(found.get("startedBy") or "").startswith(STARTED_BY_PREFIX):
                ecs.stop_task(
                    cluster=cluster_arn,
                    task=found["taskArn"],
                    reason="fargate-env: the environment is being torn down",
                )
                stopped.append(str(found["taskArn"]))
    return stopped
