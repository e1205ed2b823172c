"""The reaper: find what fargate-env forgot, and hand each one to the existing teardown.

It finds, for this deployment only:
- stale claims: registry items CREATING, DELETING or UPDATING whose recorded execution has
  ended (SUCCEEDED, FAILED, TIMED_OUT, ABORTED, or unknown to Step Functions). A claim whose
  execution still runs is never touched. CREATING and DELETING: torn down. UPDATING: the update
  ended without putting the item back (it was stopped, or timed out); when the service still
  runs a revision the registry knows, steady, with healthy targets behind every load balancer,
  the item goes back to READY (the update's failure recorded); otherwise it is reported, for a
  person to decide (a teardown of a serving environment is not the reaper's call).
- expired environments: READY past their `expires_at` whose expiry schedule is missing.
- orphans: resources carrying this deployment's tags (fargate-env:managed-by = the stack) whose
  environment has no registry item, or a DELETED one. The Resource Groups Tagging API lists
  them (ECS, ELBv2, EC2, CloudWatch Logs); the teardown finds them again by name and tags.
  Resources of a gateway (tagged fargate-env:gateway, no environment) are never orphans.

Every teardown is STARTED on the teardown machine, never done here, with `requested_at` the
moment the registry was read: a create requested after that supersedes it (ordering.py), and a
claim still running makes it wait, as for any teardown. At most MAX_TEARDOWNS_PER_RUN are
started per run; the rest are reported as deferred (the next run takes them). A dry run finds
and reports, and starts or changes nothing.

What it never touches: a resource without this deployment's managed-by tag (another stack's,
or nothing of fargate-env's: the tag filter never returns it, and the teardown's own lookups
refuse it), FAILED environments (kept on purpose, on_failure: retain), schedules and IAM roles
on their own (the Tagging API does not list them; an environment is found by its other
resources).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Final

from fargate_env import (
    bounds,
    clock,
    failures,
    lifecycle_events,
    naming,
    ordering,
    registry,
    schedules,
    service,
    settings,
)
from fargate_env.aws import client
from fargate_env.errors import InvalidRequest, error_code
from fargate_env.payloads import RegistryItem

#: The input's fields: `dry_run` only (the schedule sends {"dry_run": false}).
FIELDS: Final = frozenset({"dry_run"})
STALE_CREATING, STALE_DELETING, STALE_UPDATING = (
    "stale_creating",
    "stale_deleting",
    "stale_updating",
)
EXPIRED, ORPHAN = "expired", "orphan"
KINDS: Final = (STALE_CREATING, STALE_DELETING, STALE_UPDATING, EXPIRED, ORPHAN)
STALE_KIND: Final = {
    registry.CREATING: STALE_CREATING,
    registry.DELETING: STALE_DELETING,
    registry.UPDATING: STALE_UPDATING,
}
#: What the reaper does with a finding.
TEARDOWN, RESTORE, REPORT, DEFER = "teardown", "restore", "report", "defer"
#: The teardown's reason for the teardowns the reaper starts.
REASON: Final = "reconciled"
#: The orphan's resources named in the report, at most (their count is always given).
LISTED_ARNS: Final = 3
RESTORED_FAILURE_STEP: Final = "Reconcile"
RESTORED_RESOURCES: Final = "nothing changed: the service runs the revision it ran before"
RESTORED_NEXT: Final = "Start the update again."
REPORTED_NEXT: Final = (
    "Look at the service: start the update again with the spec it should run, or tear the "
    "environment down."
)


def validate(execution_input: Any) -> bool:
    """The input's `dry_run` (false when absent); InvalidRequest naming any other field."""
    request = {} if execution_input is None else execution_input
    if not isinstance(request, dict):
        raise InvalidRequest("reconcile input: must be a JSON object (its one field: dry_run)")
    problems = [f"{field}: unknown field" for field in sorted(set(request) - FIELDS)]
    dry_run = request.get("dry_run", False)
    if not isinstance(dry_run, bool):
        problems.append("dry_run: must be true or false")
    if problems:
        raise InvalidRequest(
            "reconcile input refused, nothing was looked at: "
            + "; ".join(problems)
            + " (the reconcile takes only dry_run)"
        )
    return dry_run is True


def _finding(name: str, kind: str, action: str, **detail: Any) -> dict[str, Any]:
    return {"name": name, "kind": kind, "action": action, **detail}


def _known_revisions(item: RegistryItem) -> set[str]:
    """The task definition revisions (family:revision) the registry says the service ran."""
    resources = item.get("resources") or {}
    recorded = (resources.get("task_definition") or {}).get("arn") or ""
    known = {entry.get("task_definition") for entry in item.get("revisions") or []}
    return {revision for revision in {recorded.split("/")[-1], *known} if revision}


def serving_a_known_revision(item: RegistryItem) -> str | None:
    """None when the environment's service runs a revision the registry knows, steady (its
    one deployment COMPLETED, all its tasks running) with healthy targets behind every load
    balancer; otherwise why not."""
    resources = item.get("resources") or {}
    cluster, named = resources.get("cluster") or {}, resources.get("service") or {}
    if not cluster.get("arn") or not named.get("name"):
        return "the registry records no service"
    described = client("ecs").describe_services(cluster=cluster["arn"], services=[named["name"]])
    current = (described.get("services") or [{}])[0]
    revision = str(current.get("taskDefinition") or "").split("/")[-1]
    if current.get("status") != "ACTIVE":
        return "its service is not ACTIVE"
    if revision not in _known_revisions(item):
        return f"its service runs {revision or 'no revision'}, which the registry does not know"
    deployments = current.get("deployments") or []
    if len(deployments) != 1 or deployments[0].get("rolloutState") != "COMPLETED":
        return "its service is still deploying"
    if current.get("runningCount", 0) < current.get("desiredCount", 0):
        return "not all of its tasks run"
    groups = [lb["target_group_arn"] for lb in resources.get("load_balancers") or []]
    unhealthy = sorted(name for name, count in service.healthy_targets(groups).items() if not count)
    if unhealthy:
        return f"no healthy target in {', '.join(unhealthy)}"
    return None


def _expired(item: RegistryItem, now: datetime) -> bool:
    expires_at = item.get("expires_at")
    if not expires_at:
        return False
    return datetime.fromisoformat(str(expires_at)) <= now and schedules.find(item["name"]) is None


def _claims(items: list[RegistryItem], now: datetime) -> tuple[list[Any], list[Any]]:
    """(findings, claims left alone because their execution runs) among the registry items."""
    found: list[dict[str, Any]] = []
    running: list[dict[str, Any]] = []
    for item in items:
        name, status = item["name"], item.get("status")
        if status in STALE_KIND:
            owner = registry.holder(item)
            ended = registry.execution_status(owner)
            if ended == "RUNNING":
                running.append({"name": name, "status": status, "execution": owner})
                continue
            detail = {"status": status, "execution": owner, "execution_status": ended}
            if status != registry.UPDATING:
                found.append(_finding(name, STALE_KIND[status], TEARDOWN, **detail))
                continue
            why = serving_a_known_revision(item)
            action = RESTORE if why is None else REPORT
            found.append(_finding(name, STALE_UPDATING, action, **detail, why=why))
        elif status == registry.READY and _expired(item, now):
            found.append(
                _finding(name, EXPIRED, TEARDOWN, status=status, expires_at=item["expires_at"])
            )
    return found, running


def _environment_name(env: str) -> bool:
    """Whether `env` is a name fargate-env gives (no other can be torn down by name)."""
    return len(env) <= naming.MAX_ENVIRONMENT_NAME and bool(
        naming.ENVIRONMENT_NAME_PATTERN.match(env)
    )


def tagged_environments() -> dict[str, list[str]]:
    """Environment -> the ARNs of its resources that carry this deployment's tags (the
    Resource Groups Tagging API, GetResources: one tag filter, every service it covers)."""
    pages = client("resourcegroupstaggingapi").get_paginator("get_resources")
    tag_filter = [{"Key": naming.MANAGED_BY_TAG, "Values": [naming.deployment()]}]
    found: dict[str, list[str]] = {}
    for page in pages.paginate(TagFilters=tag_filter):
        for mapping in page["ResourceTagMappingList"]:
            tags = naming.from_key_value_list(mapping.get("Tags"))
            env = tags.get(naming.ENVIRONMENT_TAG)
            # The tag filter is the API's; the check again is ours: never act on another's.
            if tags.get(naming.MANAGED_BY_TAG) != naming.deployment() or not env:
                continue
            if naming.GATEWAY_TAG in tags or not _environment_name(env):
                continue
            found.setdefault(env, []).append(mapping["ResourceARN"])
    return found


def _exists(arn: str) -> bool:
    """Whether a resource the Tagging API lists still exists. ECS keeps deleted clusters and
    services INACTIVE, "discoverable in your account for a period of time" (ECS API
    reference, DeleteCluster and DeleteService), and the Tagging API lists them: those are
    asked; every other kind is gone from the index once deleted."""
    service_name, resource = arn.split(":")[2], arn.split(":", 5)[-1]
    if service_name != "ecs":
        return True
    kind, _, path = resource.partition("/")
    ecs = client("ecs")
    if kind == "cluster":
        clusters = ecs.describe_clusters(clusters=[arn])["clusters"]
        return any(cluster.get("status") != "INACTIVE" for cluster in clusters)
    if kind == "service":
        services = ecs.describe_services(cluster=path.split("/")[0], services=[arn])["services"]
        return any(found.get("status") != "INACTIVE" for found in services)
    return True


def _orphans(items: list[RegistryItem]) -> list[dict[str, Any]]:
    status = {item["name"]: item.get("status") for item in items}
    found = []
    for env, arns in sorted(tagged_environments().items()):
        if status.get(env, registry.DELETED) != registry.DELETED:
            continue
        live = sorted(arn for arn in arns if _exists(arn))
        if live:
            found.append(
                _finding(
                    env,
                    ORPHAN,
                    TEARDOWN,
                    status=status.get(env),
                    resources=len(live),
                    examples=live[:LISTED_ARNS],
                )
            )
    return found


def find(execution_input: Any) -> dict[str, Any]:
    """What was forgotten, and what to do with each (at most MAX_TEARDOWNS_PER_RUN teardowns;
    the rest deferred). The input is validated first: nothing is read for a refused one."""
    dry_run = validate(execution_input)
    moment = clock.now()
    observed_at = ordering.now_iso(moment)
    items = registry.all_items()
    found, running = _claims(items, datetime.fromtimestamp(moment, tz=UTC))
    seen = {finding["name"] for finding in found}
    found += [orphan for orphan in _orphans(items) if orphan["name"] not in seen]
    teardowns = [finding for finding in found if finding["action"] == TEARDOWN]
    deferred = {id(finding) for finding in teardowns[bounds.MAX_TEARDOWNS_PER_RUN :]}
    # A deferred finding is named only: the plan travels between states (256 KB at most).
    found = [_finding(f["name"], f["kind"], DEFER) if id(f) in deferred else f for f in found]
    return {
        "dry_run": dry_run,
        "observed_at": observed_at,
        "findings": found,
        "left_alone": running,
    }


def execution_name(reconcile_execution: str, env: str) -> str:
    """The teardown's execution name: the same for one reconcile execution and environment, so
    that a retried step starts nothing twice (at most 80 characters)."""
    digest = hashlib.sha256(reconcile_execution.encode()).hexdigest()[:16]
    return f"reconcile-{env}-{digest}"


def _start_teardown(env: str, name: str, requested_at: str) -> str:
    machine = settings.require(schedules.TEARDOWN_STATE_MACHINE_ENV)
    request = {"name": env, "reason": REASON, "requested_at": requested_at}
    try:
        started = client("stepfunctions").start_execution(
            stateMachineArn=machine, name=name, input=json.dumps(request)
        )
    except Exception as exc:
        # Started already by this reconcile (its step retried) and ended since.
        if error_code(exc) != "ExecutionAlreadyExists":
            raise
        return machine.replace(":stateMachine:", ":execution:") + f":{name}"
    return str(started["executionArn"])


def _restore(finding: dict[str, Any]) -> bool:
    """The stale UPDATING claim back to READY, its update's end recorded as a failure."""
    failure = failures.shape(
        finding["name"],
        RESTORED_FAILURE_STEP,
        "UpdateEnded",
        f"the update {finding['execution']} ended {finding['execution_status']} without "
        "recording its outcome; the reconcile put the environment back to READY",
        RESTORED_RESOURCES,
        RESTORED_NEXT,
    )
    return registry.restore_stale_update(finding["name"], str(finding["execution"]), failure)


def reap(plan: dict[str, Any], reconcile_execution: str) -> dict[str, Any]:
    """Act on `plan` (find's): start the teardowns, put stale updates back to READY; a dry run
    does neither. Then the "Reconcile Report" event, whose detail is also returned."""
    started: list[dict[str, Any]] = []
    restored: list[str] = []
    for finding in plan["findings"]:
        if plan["dry_run"]:
            continue
        if finding["action"] == TEARDOWN:
            name = execution_name(reconcile_execution, finding["name"])
            arn = _start_teardown(finding["name"], name, plan["observed_at"])
            started.append({"name": finding["name"], "kind": finding["kind"], "execution": arn})
        elif finding["action"] == RESTORE and _restore(finding):
            restored.append(finding["name"])
    report = {
        "dry_run": plan["dry_run"],
        "observed_at": plan["observed_at"],
        "found": {kind: [f for f in plan["findings"] if f["kind"] == kind] for kind in KINDS},
        "started": started,
        "restored": restored,
        "reported": [f for f in plan["findings"] if f["action"] == REPORT],
        "deferred": [f["name"] for f in plan["findings"] if f["action"] == DEFER],
        "left_alone": plan["left_alone"],
        "execution": reconcile_execution,
    }
    lifecycle_events.publish(lifecycle_events.RECONCILE_REPORT, report)
    return report
