"""Update in place on the embedded AWS: a rolling deployment of a new revision with no failed
request, a bad image rolled back (the old revision keeps answering), an infrastructure change
refused before anything changes."""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Any

import pytest

from embedded_aws.emulator import EmbeddedAWS, Execution
from embedded_aws.faults import Faults, Hold, StepFault
from embedded_aws.standin import REVISION_HEADER
from fargate_env import failures, registry, update
from tests.flows.asl import definition, lambda_tasks, walk_states
from tests.flows.conftest import FAST
from tests.flows.test_eventbridge import entries, executions, started_by_event

NEW_IMAGE = "public.ecr.aws/nginx/nginx:1.27"
MISSING_IMAGE = "public.ecr.aws/nginx/nginx:no-such-tag"


def _record(aws: EmbeddedAWS, name: str) -> dict[str, Any]:
    table = aws.outputs["RegistryTableName"]
    item = aws.client("dynamodb").get_item(TableName=table, Key={"name": {"S": name}})["Item"]
    return registry._deserialize(item)


def _answers(
    aws: EmbeddedAWS, lb_arn: str, start: float, later: float = 0.0, port: int = 80
) -> list[tuple[int, str]]:
    """What the load balancer's listener on `port` answered each simulated second from `start`
    to now (the clock moved on by `later` seconds first)."""
    aws.clock.advance(later)
    end = aws.clock.now()
    return [
        (status, headers.get(REVISION_HEADER, ""))
        for moment in range(math.ceil(start), math.floor(end) + 1)
        for status, headers, _ in [aws.standins.answer(lb_arn, port, float(moment))]
    ]


def _created(aws: EmbeddedAWS, name: str) -> tuple[dict[str, Any], str]:
    spec = {"name": name, "polling": {"interval_seconds": 5, "deadline_seconds": 600}}
    provision = aws.provision(spec)
    assert provision.status == "SUCCEEDED", provision.cause
    lb_arn = provision.output["resources"]["load_balancers"][0]["arn"]
    return spec, lb_arn


def _failure(execution: Execution) -> dict[str, Any]:
    assert execution.status == "FAILED"
    assert execution.cause is not None
    return dict(json.loads(execution.cause))


def test_a_good_update_rolls_out_the_new_revision_without_a_failed_request(
    embedded: EmbeddedAWS, env_name
):
    # Given a READY environment serving revision 1
    spec, lb_arn = _created(embedded, env_name)
    started = embedded.clock.now()

    # When its image is updated
    updated = embedded.update({**spec, "container": {"image": NEW_IMAGE}})

    # Then the new revision is rolled out, verified and recorded
    assert updated.status == "SUCCEEDED", updated.cause
    family = f"fenv-{env_name}"
    assert updated.output["revision"] == f"{family}:2"
    assert updated.output["previous_revision"] == f"{family}:1"
    item = _record(embedded, env_name)
    assert item["status"] == registry.READY
    assert item["spec"]["container"]["image"] == NEW_IMAGE
    assert [(r["task_definition"], r["image"]) for r in item["revisions"]] == [
        (f"{family}:2", NEW_IMAGE)
    ]
    # ... and through the whole rollout every request was answered: by revision 1 until the
    # new task was healthy, then by revision 2 only (the old one drained)
    answers = _answers(embedded, lb_arn, started)
    assert Counter(status for status, _ in answers) == Counter({200: len(answers)})
    served = [revision for _, revision in answers]
    switch = served.index(f"{family}:2")
    assert switch > 0
    assert set(served[:switch]) == {f"{family}:1"}
    assert set(served[switch:]) == {f"{family}:2"}

    teardown = embedded.teardown(env_name)
    assert teardown.status == "SUCCEEDED", teardown.cause
    assert embedded.remaining(env_name) == []


def test_a_shared_environment_is_updated_in_place_and_its_gateway_neighbour_never_notices(
    embedded: EmbeddedAWS, env_name
):
    # Given two READY environments in shared mode, on one gateway, each at its own port
    polling = {"polling": {"interval_seconds": 5, "deadline_seconds": 600}}
    names = (f"{env_name[:14]}-a", f"{env_name[:14]}-b")
    specs = {name: {"name": name, "mode": "shared", **polling} for name in names}
    made = {name: embedded.provision(spec) for name, spec in specs.items()}
    assert {e.status for e in made.values()} == {"SUCCEEDED"}, [e.cause for e in made.values()]
    gateways = {e.output["resources"]["load_balancers"][0]["arn"] for e in made.values()}
    assert len(gateways) == 1
    [gateway] = gateways
    port = {name: int(e.output["url"].rsplit(":", 1)[1].strip("/")) for name, e in made.items()}
    updated_name, neighbour = names
    started = embedded.clock.now()

    # When the first one's image is updated
    updated = embedded.update({**specs[updated_name], "container": {"image": NEW_IMAGE}})

    # Then it is rolled out in place, at the same URL, without a failed request...
    assert updated.status == "SUCCEEDED", updated.cause
    assert updated.output["url"] == made[updated_name].output["url"]
    family = f"fenv-{updated_name}"
    assert updated.output["revision"] == f"{family}:2"
    served = _answers(embedded, gateway, started, port=port[updated_name])
    assert {status for status, _ in served} == {200}
    revisions = [revision for _, revision in served]
    switch = revisions.index(f"{family}:2")
    assert set(revisions[:switch]) == {f"{family}:1"}
    assert set(revisions[switch:]) == {f"{family}:2"}
    # ... while its neighbour on the gateway answered as itself all along, on its revision 1
    assert set(_answers(embedded, gateway, started, port=port[neighbour])) == {
        (200, f"fenv-{neighbour}:1")
    }
    assert _record(embedded, neighbour)["status"] == registry.READY

    for name in names:
        assert embedded.teardown(name).status == "SUCCEEDED"
        assert embedded.remaining(name) == []


def _health_check(aws: EmbeddedAWS, env: str) -> tuple[str, int]:
    group = aws.client("elbv2").describe_target_groups(Names=[f"fenv-{env}-web"])
    found = group["TargetGroups"][0]
    return found["HealthCheckPath"], found["HealthCheckIntervalSeconds"]


def test_the_target_groups_health_check_is_changed_in_place_and_back_when_it_fails(
    embedded: EmbeddedAWS, env_name
):
    # Given a READY environment checked at / (every 10 s, the spec's default)
    spec, _ = _created(embedded, env_name)
    before = _health_check(embedded, env_name)
    assert before == ("/", 10)
    check = {"path": "/healthz", "interval_seconds": 15}
    wanted = {**spec, "load_balancers": [{"id": "web", "target_group": {"health_check": check}}]}

    # When an update changes the load balancer's health check, and its check of the new
    # revision fails
    embedded.reconfigure(faults=Faults(steps=[StepFault(step="verify_update", when="after")]))
    failed = embedded.update(wanted)

    # Then the health check is put back with the revision, the environment READY
    assert _failure(failed)["resources"] == update.ROLLED_BACK_TO_PREVIOUS
    assert _health_check(embedded, env_name) == before
    assert _record(embedded, env_name)["status"] == registry.READY

    # When it is updated again, without a fault: changed in place (not refused as
    # infrastructure), the same target group, recorded
    embedded.reconfigure(faults=Faults())
    updated = embedded.update(wanted)
    assert updated.status == "SUCCEEDED", updated.cause
    assert _health_check(embedded, env_name) == ("/healthz", 15)
    recorded = _record(embedded, env_name)["spec"]["load_balancers"][0]["target_group"]
    assert recorded["health_check"]["path"] == "/healthz"

    teardown = embedded.teardown(env_name)
    assert teardown.status == "SUCCEEDED", teardown.cause
    assert embedded.remaining(env_name) == []


def test_a_bad_image_is_rolled_back_and_the_old_revision_keeps_answering(
    embedded: EmbeddedAWS, env_name
):
    # Given a READY environment, and an image tag no registry has
    spec, lb_arn = _created(embedded, env_name)
    embedded.reconfigure(model=FAST, faults=Faults(missing_images=frozenset({MISSING_IMAGE})))
    started = embedded.clock.now()

    # When it is updated to that image
    updated = embedded.update({**spec, "container": {"image": MISSING_IMAGE}})

    # Then the update fails naming the rollout and the pull error; the service is back on
    # revision 1, the environment READY, and no request failed meanwhile
    failure = _failure(updated)
    assert failure["failed_step"] == "Check the rollout"
    assert failure["error"] == "DeploymentRolledBack"
    assert "CannotPullContainerError" in failure["message"]
    assert failure["resources"] == update.ROLLED_BACK_TO_PREVIOUS
    family = f"fenv-{env_name}"
    item = _record(embedded, env_name)
    assert item["status"] == registry.READY
    assert item["spec"]["container"]["image"] == spec.get("container", {}).get(
        "image", item["spec"]["container"]["image"]
    )
    assert item["update_failure"] == failure
    answers = _answers(embedded, lb_arn, started, later=60)
    assert {status for status, _ in answers} == {200}, answers
    assert {revision for _, revision in answers} == {f"{family}:1"}

    teardown = embedded.teardown(env_name)
    assert teardown.status == "SUCCEEDED", teardown.cause
    assert embedded.remaining(env_name) == []


def test_an_infrastructure_change_is_refused_before_anything_changes(
    embedded: EmbeddedAWS, env_name
):
    # Given a READY environment
    spec, _ = _created(embedded, env_name)
    before = _record(embedded, env_name)

    # When an update asks for another listener port and other tags (with a new image)
    changed = {
        **spec,
        "container": {"image": NEW_IMAGE},
        "load_balancers": [{"listeners": [{"port": 8080, "protocol": "HTTP"}]}],
        "tags": {"team": "web"},
    }
    updated = embedded.update(changed)

    # Then it is refused naming the fields and how to do it; nothing changed
    failure = _failure(updated)
    assert failure["failed_step"] == "Begin the update"
    assert failure["error"] == "InfrastructureChange"
    assert "tags.team" in failure["message"]
    assert "load_balancers[0].listeners[0].port" in failure["message"]
    assert failure["resources"] == failures.NOTHING_WAS_CHANGED
    assert failure["next"] == update.RECREATE
    after = _record(embedded, env_name)
    assert after["status"] == registry.READY
    assert after["spec"] == before["spec"]
    assert after["resources"]["task_definition"] == before["resources"]["task_definition"]
    assert "update_execution" not in after

    teardown = embedded.teardown(env_name)
    assert teardown.status == "SUCCEEDED", teardown.cause


def _held_at_its_rollout(aws: EmbeddedAWS, spec: dict[str, Any]) -> tuple[Hold, str]:
    """An update to NEW_IMAGE started and held at its rollout (it holds the claim)."""
    held = Hold("roll_out_update")
    aws.reconfigure(model=FAST, faults=Faults(holds=[held]))
    payload = {"spec": {**spec, "container": {"image": NEW_IMAGE}}}
    arn = aws.start_execution(aws.update_arn, payload, f"{spec['name']}-held")
    assert held.reached.wait(60)
    return held, arn


def test_an_update_while_another_runs_is_refused_and_the_first_completes(
    embedded: EmbeddedAWS, env_name
):
    # Given a READY environment, and an update held at its rollout (it holds the claim)
    spec, _ = _created(embedded, env_name)
    held, first = _held_at_its_rollout(embedded, spec)

    # When another update of it is requested a second later
    embedded.clock.advance(1.0)
    second = embedded.update({**spec, "container": {"environment": {"N": "2"}}})
    held.release()

    # Then that one is refused, changing nothing; the first one completes
    assert second.status == "FAILED", second.output
    failure = _failure(second)
    assert failure["error"] == "EnvironmentBusy"
    assert "another update of it is running" in failure["message"]
    assert failure["resources"] == failures.NOTHING_WAS_CHANGED
    assert embedded.wait(first).status == "SUCCEEDED"
    item = _record(embedded, env_name)
    assert item["status"] == registry.READY
    assert item["spec"]["container"]["image"] == NEW_IMAGE
    assert embedded.teardown(env_name).status == "SUCCEEDED"


def test_a_teardown_requested_during_an_update_waits_for_it_then_removes_everything(
    embedded: EmbeddedAWS, env_name
):
    # Given an update held at its rollout
    spec, _ = _created(embedded, env_name)
    held, update_arn = _held_at_its_rollout(embedded, spec)

    # When a teardown is requested meanwhile, and the update goes on
    teardown_arn = embedded.start_execution(embedded.teardown_arn, {"name": env_name}, env_name)
    held.release()

    # Then the update ends first and the teardown removes everything after it
    assert embedded.wait(update_arn).status == "SUCCEEDED"
    teardown = embedded.wait(teardown_arn)
    assert teardown.status == "SUCCEEDED", teardown.cause
    assert embedded.remaining(env_name) == []


UPDATE_TASKS = lambda_tasks("update")
#: Runs only when something else failed: a first fault leads to it.
UPDATE_ONLY_ON_FAILURE = {"record_update_failure": ("roll_out_update", "Roll out the new revision")}


def test_every_update_task_state_is_covered():
    # The parametrisation below is derived from the ASL file: every Task state is a Lambda step.
    tasks = [name for name, state in walk_states(definition("update")) if state["Type"] == "Task"]
    assert [name for name, _ in UPDATE_TASKS] == tasks
    assert len(tasks) == len(set(tasks)) == 8


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize(("state", "step"), UPDATE_TASKS, ids=[s for s, _ in UPDATE_TASKS])
def test_a_failing_update_step_is_named_and_the_environment_keeps_answering(
    embedded: EmbeddedAWS, env_name, state, step, when
):
    # Given a READY environment, and a fault at this step of its update
    spec, lb_arn = _created(embedded, env_name)
    family = f"fenv-{env_name}"
    faults = [StepFault(step=step, when=when)]
    expected_step = state
    if step in UPDATE_ONLY_ON_FAILURE:
        first_step, expected_step = UPDATE_ONLY_ON_FAILURE[step]
        faults.insert(0, StepFault(step=first_step, when="after"))
    embedded.reconfigure(model=FAST, faults=Faults(steps=faults))
    started = embedded.clock.now()

    # When its image is updated
    updated = embedded.update({**spec, "container": {"image": NEW_IMAGE}})

    # Then the update fails naming the step and saying what happened to the service
    failure = _failure(updated)
    assert failure["failed_step"] == expected_step, failure
    assert updated.error == "InjectedFault"
    if step == "begin_update":
        assert failure["resources"] == failures.NOTHING_WAS_CHANGED
    elif step == "record_update_failure":
        assert failure["resources"] == update.ROLLBACK_FAILED
    else:
        assert failure["resources"] == update.ROLLED_BACK_TO_PREVIOUS
    # ... every request meanwhile was answered, and (once a rollback had time) by revision 1
    embedded.reconfigure(model=FAST, faults=Faults())
    answers = _answers(embedded, lb_arn, started, later=120)
    assert {status for status, _ in answers} == {200}
    if step != "record_update_failure":
        assert answers[-1][1] == f"{family}:1"
    # ... and the next update of it succeeds (it takes over a claim its failed one left)
    again = embedded.update({**spec, "container": {"image": NEW_IMAGE}})
    assert again.status == "SUCCEEDED", again.cause
    assert _record(embedded, env_name)["status"] == registry.READY

    assert embedded.teardown(env_name).status == "SUCCEEDED"
    assert embedded.remaining(env_name) == []


def test_an_update_requested_event_updates_the_environment(embedded: EmbeddedAWS, env_name):
    # Given the environment an "Environment Create Requested" event would create
    [entry] = entries("update-requested.entries.json", env_name)
    spec = json.loads(entry["Detail"])["spec"]
    created = {**spec, "container": {}}
    assert embedded.provision(created).status == "SUCCEEDED"
    machine = embedded.update_arn
    before = {e["executionArn"] for e in executions(embedded, machine)}

    # When an "Environment Update Requested" event names it, with a new image
    sent = embedded.client("events").put_events(Entries=[entry])

    # Then the rule starts the update flow with the event, and the update succeeds
    assert sent["FailedEntryCount"] == 0
    started = started_by_event(embedded, machine, before, env_name)
    assert set(json.loads(started["input"])) == {"detail", "time"}
    updated = embedded.wait(started["executionArn"])
    assert updated.status == "SUCCEEDED", updated.cause
    assert _record(embedded, env_name)["spec"]["container"]["image"] == NEW_IMAGE
    assert embedded.teardown(env_name).status == "SUCCEEDED"
