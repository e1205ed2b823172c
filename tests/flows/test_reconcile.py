"""The reaper (issue #14): the reconcile machine finds each kind of leftover and starts the
existing teardown for it, leaves running claims, foreign resources and another deployment's
alone, starts nothing in a dry run, and reports what it found and did."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from embedded_aws.emulator import EmbeddedAWS, Execution
from embedded_aws.faults import Faults, Hold, StepFault
from fargate_env import bounds, naming
from fenv_cli import errors
from fenv_cli.app import main
from tests.support import EVENTS

FAST_POLLING = {"polling": {"interval_seconds": 5, "deadline_seconds": 600}}
NEW_IMAGE = "public.ecr.aws/nginx/nginx:1.27"
REPORT_TYPE = "Reconcile Report"


def reconcile(aws: EmbeddedAWS, payload: dict[str, Any] | None = None) -> Execution:
    """One reconcile execution, waited for; then every teardown it started, waited for too."""
    arn = aws.start_execution(
        aws.outputs["ReconcileStateMachineArn"], payload or {}, f"reconcile-{_unique(aws)}"
    )
    done = aws.wait(arn)
    for started in (done.output or {}).get("started", []):
        assert aws.wait(started["execution"]).status == "SUCCEEDED", started
    return done


def _unique(aws: EmbeddedAWS) -> str:
    aws.clock.advance(0.001)
    return f"{aws.clock.now():.6f}".replace(".", "-")


def registry(aws: EmbeddedAWS, name: str) -> dict[str, Any] | None:
    item = (
        aws.client("dynamodb")
        .get_item(TableName=aws.outputs["RegistryTableName"], Key={"name": {"S": name}})
        .get("Item")
    )
    return None if item is None else {key: next(iter(v.values())) for key, v in item.items()}


def set_status(aws: EmbeddedAWS, name: str, status: str) -> None:
    aws.client("dynamodb").update_item(
        TableName=aws.outputs["RegistryTableName"],
        Key={"name": {"S": name}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": status}},
    )


def findings(report: dict[str, Any], name: str) -> list[tuple[str, str]]:
    """(kind, action) of every finding of `name` in a report."""
    return [
        (finding["kind"], finding["action"])
        for found in report["found"].values()
        for finding in found
        if finding["name"] == name
    ]


def started_for(report: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [started for started in report["started"] if started["name"] == name]


def gone(aws: EmbeddedAWS, name: str) -> None:
    assert aws.remaining(name) == []
    assert (registry(aws, name) or {}).get("status") == "DELETED"


@pytest.fixture
def report_queue(embedded: EmbeddedAWS, env_name: str) -> Iterator[str]:
    """A queue receiving the "Reconcile Report" events of the default bus."""
    sqs, events = embedded.client("sqs"), embedded.client("events")
    url = sqs.create_queue(QueueName=f"reports-{env_name}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    rule = f"reports-{env_name}"
    pattern = {"source": ["fargate-env"], "detail-type": [REPORT_TYPE]}
    events.put_rule(Name=rule, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=rule, Targets=[{"Id": "queue", "Arn": arn}])
    yield str(url)
    events.remove_targets(Rule=rule, Ids=["queue"])
    events.delete_rule(Name=rule)


def test_a_stale_creating_claim_of_a_failed_provisioning_is_torn_down(embedded, env_name):
    # Given a provisioning that failed and could not record it: the name is still CREATING
    # (on_failure retain: everything it made is still there)
    spec = {"name": env_name, "on_failure": "retain"}
    faults = [
        StepFault(step="create_service", when="after"),
        StepFault("record_provisioning_failure"),
    ]
    embedded.reconfigure(faults=Faults(steps=faults))
    assert embedded.provision(spec).status == "FAILED"
    embedded.reconfigure(faults=Faults())
    assert registry(embedded, env_name)["status"] == "CREATING"
    assert embedded.remaining(env_name) != []

    # When the reaper runs
    done = reconcile(embedded)

    # Then it started the teardown, which removed everything
    assert done.status == "SUCCEEDED", done.cause
    assert findings(done.output, env_name) == [("stale_creating", "teardown")]
    [started] = started_for(done.output, env_name)
    assert started["kind"] == "stale_creating"
    gone(embedded, env_name)


def test_a_stale_deleting_claim_of_a_failed_teardown_is_torn_down(embedded, env_name):
    # Given a teardown that failed part-way: DELETING, its security groups left
    assert embedded.provision({"name": env_name}).status == "SUCCEEDED"
    embedded.reconfigure(faults=Faults(steps=[StepFault(step="delete_security_groups")]))
    assert embedded.teardown(env_name).status == "FAILED"
    embedded.reconfigure(faults=Faults())
    assert registry(embedded, env_name)["status"] == "DELETING"

    done = reconcile(embedded)

    assert findings(done.output, env_name) == [("stale_deleting", "teardown")]
    gone(embedded, env_name)


def test_a_stale_update_of_a_serving_environment_goes_back_to_ready(embedded, env_name):
    # Given an update that failed before its rollout and could not record it: UPDATING, the
    # service still on the revision the registry knows
    spec = {"name": env_name, **FAST_POLLING}
    assert embedded.provision(spec).status == "SUCCEEDED"
    faults = [StepFault(step="roll_out_update"), StepFault(step="record_update_failure")]
    embedded.reconfigure(faults=Faults(steps=faults))
    assert embedded.update({**spec, "container": {"image": NEW_IMAGE}}).status == "FAILED"
    embedded.reconfigure(faults=Faults())
    assert registry(embedded, env_name)["status"] == "UPDATING"

    done = reconcile(embedded)

    # Then READY again, the update's end recorded; nothing torn down
    assert findings(done.output, env_name) == [("stale_updating", "restore")]
    assert env_name in done.output["restored"]
    assert started_for(done.output, env_name) == []
    item = registry(embedded, env_name)
    assert item["status"] == "READY"
    assert json.loads(item["update_failure"])["failed_step"] == "Reconcile"
    assert embedded.update({**spec, "container": {"image": NEW_IMAGE}}).status == "SUCCEEDED"
    assert embedded.teardown(env_name).status == "SUCCEEDED"


def test_a_stale_update_on_an_unknown_revision_is_reported_not_touched(embedded, env_name):
    # Given an update that rolled the new revision out, then failed and could not record it
    spec = {"name": env_name, **FAST_POLLING}
    assert embedded.provision(spec).status == "SUCCEEDED"
    faults = [
        StepFault(step="verify_update", when="after"),
        StepFault(step="record_update_failure"),
    ]
    embedded.reconfigure(faults=Faults(steps=faults))
    assert embedded.update({**spec, "container": {"image": NEW_IMAGE}}).status == "FAILED"
    embedded.reconfigure(faults=Faults())

    done = reconcile(embedded)

    # Then reported for a person (the service runs a revision the registry does not know)
    assert findings(done.output, env_name) == [("stale_updating", "report")]
    [reported] = [r for r in done.output["reported"] if r["name"] == env_name]
    assert "does not know" in reported["why"]
    assert registry(embedded, env_name)["status"] == "UPDATING"
    assert started_for(done.output, env_name) == []
    assert embedded.teardown(env_name).status == "SUCCEEDED"  # a stale update is taken over


def test_an_expired_environment_without_its_schedule_is_torn_down(embedded, env_name):
    # Given two environments past their time to live: one lost its expiry schedule
    kept = f"{env_name}k"
    for name in (env_name, kept):
        ready = embedded.provision({"name": name, "time_to_live_minutes": 60})
        assert ready.status == "SUCCEEDED"
    embedded.client("scheduler").delete_schedule(Name=naming.schedule_name(env_name))
    embedded.clock.advance(3_601)

    done = reconcile(embedded)

    # Then the one without a schedule is torn down; the other is its schedule's to tear down
    assert findings(done.output, env_name) == [("expired", "teardown")]
    assert findings(done.output, kept) == []
    gone(embedded, env_name)
    assert registry(embedded, kept)["status"] == "READY"
    assert embedded.teardown(kept).status == "SUCCEEDED"


def test_tagged_orphans_without_an_environment_are_torn_down(embedded, env_name):
    # Given resources of two environments: one has no registry item, the other a DELETED one
    deleted = f"{env_name}d"
    for name in (env_name, deleted):
        assert embedded.provision({"name": name}).status == "SUCCEEDED"
    embedded.client("dynamodb").delete_item(
        TableName=embedded.outputs["RegistryTableName"], Key={"name": {"S": env_name}}
    )
    set_status(embedded, deleted, "DELETED")

    done = reconcile(embedded)

    assert findings(done.output, env_name) == [("orphan", "teardown")]
    assert findings(done.output, deleted) == [("orphan", "teardown")]
    gone(embedded, env_name)
    gone(embedded, deleted)
    # A second run finds nothing of them
    assert findings(reconcile(embedded).output, env_name) == []


def test_a_running_claim_is_left_alone(embedded, env_name):
    # Given a provisioning that is running (held at its cluster)
    held = Hold("create_cluster")
    embedded.reconfigure(faults=Faults(holds=[held]))
    creating = embedded.start_execution(
        embedded.provision_arn, {"spec": {"name": env_name}}, f"running-{env_name}"
    )
    assert held.reached.wait(60), "the provisioning never reached its cluster"
    try:
        done = reconcile(embedded)
    finally:
        held.release()

    # Then the claim is listed as left alone, and no teardown of it was started
    assert findings(done.output, env_name) == []
    assert [c["name"] for c in done.output["left_alone"]] == [env_name]
    assert started_for(done.output, env_name) == []
    assert embedded.wait(creating).status == "SUCCEEDED"
    assert embedded.teardown(env_name).status == "SUCCEEDED"


def test_foreign_and_other_deployments_resources_are_left_alone(embedded, env_name):
    # Given a cluster named like ours without any tag, and one of another deployment
    other = f"{env_name}o"
    ecs = embedded.client("ecs")
    ecs.create_cluster(clusterName=naming.cluster_name(env_name))
    theirs = {naming.ENVIRONMENT_TAG: other, naming.MANAGED_BY_TAG: "another-stack"}
    ecs.create_cluster(clusterName=naming.cluster_name(other), tags=naming.as_ecs_tags(theirs))

    done = reconcile(embedded)

    # Then neither is found, and both are still there
    assert findings(done.output, env_name) == findings(done.output, other) == []
    names = [naming.cluster_name(env_name), naming.cluster_name(other)]
    clusters = ecs.describe_clusters(clusters=names)["clusters"]
    assert sorted(c["status"] for c in clusters) == ["ACTIVE", "ACTIVE"]
    ecs.delete_cluster(cluster=names[0])
    ecs.delete_cluster(cluster=names[1])


def test_a_dry_run_reports_and_starts_nothing(embedded, env_name, report_queue):
    # Given an orphan
    assert embedded.provision({"name": env_name}).status == "SUCCEEDED"
    embedded.client("dynamodb").delete_item(
        TableName=embedded.outputs["RegistryTableName"], Key={"name": {"S": env_name}}
    )
    teardowns = embedded.client("stepfunctions").list_executions(
        stateMachineArn=embedded.teardown_arn
    )["executions"]

    done = reconcile(embedded, {"dry_run": True})

    # Then found and reported, nothing started, nothing changed
    assert done.status == "SUCCEEDED"
    assert done.output["dry_run"] is True
    assert findings(done.output, env_name) == [("orphan", "teardown")]
    assert done.output["started"] == []
    after = embedded.client("stepfunctions").list_executions(stateMachineArn=embedded.teardown_arn)[
        "executions"
    ]
    assert len(after) == len(teardowns)
    assert embedded.remaining(env_name) != []
    # The report event says the same as the execution's output
    messages = embedded.client("sqs").receive_message(QueueUrl=report_queue, WaitTimeSeconds=1)
    [detail] = [json.loads(m["Body"])["detail"] for m in messages["Messages"]]
    assert detail == {**done.output, "deployment": embedded.stack_name}
    sample = json.loads((EVENTS / "eventbridge" / "reconcile-report.event.json").read_text())
    assert (sample["detail-type"], set(sample["detail"])) == (REPORT_TYPE, set(detail))

    # And the real run reaps it
    assert findings(reconcile(embedded).output, env_name) == [("orphan", "teardown")]
    assert embedded.remaining(env_name) == []


def test_teardowns_per_run_are_bounded_the_rest_deferred(embedded, env_name):
    # Given more orphans than a run may tear down (a tagged log group each)
    count = bounds.MAX_TEARDOWNS_PER_RUN + 1
    names = [f"{env_name[:17]}{index:x}" for index in range(count)]
    logs = embedded.client("logs")
    for name in names:
        tags = {naming.ENVIRONMENT_TAG: name, naming.MANAGED_BY_TAG: embedded.stack_name}
        logs.create_log_group(logGroupName=naming.log_group_name(name), tags=tags)

    done = reconcile(embedded)

    ours = [s["name"] for s in done.output["started"] if s["name"] in names]
    assert len(done.output["started"]) == bounds.MAX_TEARDOWNS_PER_RUN
    assert [n for n in names if n not in ours] == [n for n in done.output["deferred"] if n in names]
    assert len(ours) + len([n for n in done.output["deferred"] if n in names]) == count
    # The next run takes the rest
    reconcile(embedded)
    assert all(embedded.remaining(name) == [] for name in names)


@pytest.mark.parametrize(
    ("payload", "named"),
    [({"dry_run": "yes"}, "dry_run"), ({"dryrun": True}, "dryrun: unknown field")],
)
def test_a_bad_input_is_refused_naming_the_field(embedded, payload, named):
    done = reconcile(embedded, payload)

    assert done.status == "FAILED"
    cause = json.loads(done.cause)
    assert cause["failed_step"] == "Find what was forgotten"
    assert cause["error"] == "InvalidRequest"
    assert named in cause["message"]
    assert cause["resources"] == "nothing started or changed"


def test_fenv_reconcile_dry_run_reports_what_it_finds(embedded, env_name, capsys):
    # Given an orphan
    assert embedded.provision({"name": env_name}).status == "SUCCEEDED"
    set_status(embedded, env_name, "DELETED")

    # When `fenv reconcile --dry-run`, as JSON and as text
    assert main(["--output", "json", "reconcile", "--dry-run"]) == errors.OK
    dry = json.loads(capsys.readouterr().out)
    assert main(["reconcile", "--dry-run"]) == errors.OK
    printed = capsys.readouterr().out

    # Then it found the orphan and started nothing
    assert dry["status"] == "SUCCEEDED"
    assert findings(dry["output"], env_name) == [("orphan", "teardown")]
    assert dry["output"]["started"] == []
    assert "dry run: nothing started" in printed
    assert f"orphan: {env_name} -> teardown" in printed
    # (the real run is the machine's, above: fenv's in-process run would restore the process
    # environment under the teardowns it starts, which the embedded AWS runs in this process)
    assert findings(reconcile(embedded).output, env_name) == [("orphan", "teardown")]
    gone(embedded, env_name)


def test_a_create_requested_after_the_reaper_looked_supersedes_its_teardown(embedded, env_name):
    # Given an orphan the reaper has found (held before it starts anything)
    assert embedded.provision({"name": env_name}).status == "SUCCEEDED"
    set_status(embedded, env_name, "DELETED")
    held = Hold("reap_leftovers")
    embedded.reconfigure(faults=Faults(holds=[held]))
    arn = embedded.start_execution(
        embedded.outputs["ReconcileStateMachineArn"], {}, f"reconcile-{_unique(embedded)}"
    )
    assert held.reached.wait(60), "the reaper never reached its teardowns"

    # When the environment is created again, requested after the reaper looked
    try:
        embedded.clock.advance(1.0)
        assert embedded.provision({"name": env_name}).status == "SUCCEEDED"
    finally:
        held.release()
    done = embedded.wait(arn)

    # Then the teardown the reaper started is superseded: the new environment stays
    [started] = started_for(done.output, env_name)
    teardown = embedded.wait(started["execution"])
    assert (teardown.status, teardown.output["outcome"]) == ("SUCCEEDED", "superseded")
    assert registry(embedded, env_name)["status"] == "READY"
    assert embedded.teardown(env_name).status == "SUCCEEDED"
