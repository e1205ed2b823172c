"""Every Task state of both machines, made to fail before and after its work: a provisioning
fails naming the step and its compensation leaves nothing behind; a teardown fails naming the
step and the next teardown finishes the job."""

from __future__ import annotations

import pytest

from embedded_aws.emulator import EmbeddedAWS
from embedded_aws.faults import Faults, StepFault
from tests.flows.asl import definition, lambda_tasks, walk_states
from tests.flows.conftest import slots_held

PROVISION_TASKS = lambda_tasks("provision")
TEARDOWN_TASKS = lambda_tasks("teardown")
#: Steps that run only when something else failed: they get a first fault to run at all.
ONLY_ON_FAILURE = {"record_provisioning_failure": ("create_service", "Create the service")}
#: Before this step nothing is created or recorded: the execution is rejected outright.
REJECTED_BEFORE_ANY_WRITE = {"validate_spec"}
#: Steps only a spec with a command before traffic reaches.
WITH_A_COMMAND = {"run_pre_traffic_task", "check_pre_traffic_task"}
#: Each step fails before and after its work in dedicated mode; in shared mode (the same states,
#: other work: a slot on a gateway, a listener on it) after its work, the case that leaves the
#: most to compensate.
CASES = [("dedicated", "before"), ("dedicated", "after"), ("shared", "after")]


def test_every_lambda_task_state_is_covered():
    # The parametrisation below is derived from the ASL file: no Task state is skipped.
    task_states = [
        name for name, state in walk_states(definition("provision")) if state["Type"] == "Task"
    ]
    lambda_states = [name for name, _ in PROVISION_TASKS]
    # The one other Task, the nested rollback, is failed in the last test of this module.
    assert set(task_states) - set(lambda_states) == {"Roll back what this execution created"}
    assert len(lambda_states) == len(set(lambda_states)) >= 16


@pytest.mark.parametrize(("mode", "when"), CASES, ids=["-".join(case) for case in CASES])
@pytest.mark.parametrize(("state", "step"), PROVISION_TASKS, ids=[s for s, _ in PROVISION_TASKS])
def test_a_failing_step_is_named_and_rolled_back(
    embedded: EmbeddedAWS, env_name, state, step, mode, when
):
    # Given a fault at this step (and, for failure-only steps, a first fault that leads to it)
    faults = [StepFault(step=step, when=when)]
    expected_step = state
    if step in ONLY_ON_FAILURE:
        first_step, expected_step = ONLY_ON_FAILURE[step]
        faults.insert(0, StepFault(step=first_step, when="after"))
    embedded.reconfigure(faults=Faults(steps=faults))

    # When the runbook's example (with a migration first, for the steps that run it) is provisioned
    spec: dict = {"name": env_name, "mode": mode}
    if step in WITH_A_COMMAND:
        spec["pre_traffic_task"] = {"command": ["./manage.py", "migrate"]}
    execution = embedded.provision(spec)

    # Then the execution fails, names the failed step, and nothing of the environment is left
    assert execution.status == "FAILED"
    cause = execution.cause_json()
    assert cause["failed_step"] == expected_step, cause
    assert execution.error == "InjectedFault"
    assert embedded.remaining(env_name) == []
    assert slots_held(embedded, env_name) == []
    if step in REJECTED_BEFORE_ANY_WRITE:
        assert cause["resources"] == "none created"
    else:
        assert cause["resources"].startswith("rolled back"), cause


def test_a_failed_rollback_is_reported_and_a_later_teardown_cleans_up(embedded, env_name):
    # Given a provisioning that fails at the service, and a rollback (the nested teardown
    # execution, the one Task state that is not a Lambda) that fails too
    embedded.reconfigure(
        faults=Faults(
            steps=[
                StepFault(step="create_service", when="after"),
                StepFault(step="find_environment_resources", when="before"),
            ]
        )
    )

    execution = embedded.provision({"name": env_name})

    # Then the execution still names the first failure, and says the rollback failed
    assert execution.status == "FAILED"
    cause = execution.cause_json()
    assert cause["failed_step"] == "Create the service"
    assert cause["resources"] == (
        'rollback failed at "Find the environment\'s resources" (InjectedFault: '
        "find_environment_resources: fault injected before its work): what it could not delete "
        "is still there"
    )
    assert cause["next"].startswith(f"Start the teardown of {env_name}")
    assert embedded.remaining(env_name)  # the rollback could not remove them

    # And the teardown the failure points to removes everything once it can run
    embedded.reconfigure(faults=Faults())
    teardown = embedded.teardown(env_name)
    assert teardown.status == "SUCCEEDED", teardown.cause
    assert embedded.remaining(env_name) == []


def test_every_teardown_task_state_is_covered():
    # The parametrisation below is derived from the ASL file: every Task state is a Lambda step.
    task_states = [
        name for name, state in walk_states(definition("teardown")) if state["Type"] == "Task"
    ]
    assert [name for name, _ in TEARDOWN_TASKS] == task_states
    assert len(task_states) == len(set(task_states)) == 14


@pytest.mark.parametrize(("mode", "when"), CASES, ids=["-".join(case) for case in CASES])
@pytest.mark.parametrize(("state", "step"), TEARDOWN_TASKS, ids=[s for s, _ in TEARDOWN_TASKS])
def test_a_failing_teardown_step_is_named_and_the_next_teardown_finishes(
    embedded: EmbeddedAWS, env_name, state, step, mode, when
):
    # Given a ready environment, and a fault at this step of its teardown
    assert embedded.provision({"name": env_name, "mode": mode}).status == "SUCCEEDED"
    embedded.reconfigure(faults=Faults(steps=[StepFault(step=step, when=when)]))

    teardown = embedded.teardown(env_name)

    # Then the teardown fails naming the step, and says what to do
    assert teardown.status == "FAILED"
    cause = teardown.cause_json()
    assert cause["failed_step"] == state, cause
    assert teardown.error == "InjectedFault"
    assert cause["error"] == "InjectedFault"
    assert cause["next"] == "Run the teardown again: it resumes from what is left."

    # And the next teardown, without the fault, leaves nothing
    embedded.reconfigure(faults=Faults())
    again = embedded.teardown(env_name)
    assert again.status == "SUCCEEDED", again.cause
    assert embedded.remaining(env_name) == []
    assert slots_held(embedded, env_name) == []
