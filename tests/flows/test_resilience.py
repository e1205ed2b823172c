"""Transient errors retried, bounded waits, tasks that keep stopping, slow network interfaces,
and a teardown that finishes whatever state the environment is in."""

from __future__ import annotations

from embedded_aws.emulator import EmbeddedAWS
from embedded_aws.faults import ANY_STEP, Faults, StepFault
from tests.flows.conftest import REAL


def failed_task_errors(embedded: EmbeddedAWS, execution_arn: str) -> list[str]:
    return [
        event["taskFailedEventDetails"]["error"]
        for event in embedded.history(execution_arn)
        if event["type"] == "TaskFailed"
    ]


def test_a_transient_error_on_the_first_attempt_of_every_step_still_succeeds(embedded, env_name):
    # Given every step fails its first attempt with the retryable error
    embedded.reconfigure(
        faults=Faults(steps=[StepFault(step=ANY_STEP, error="TransientAwsError", times=1)])
    )

    # When the example is provisioned and torn down
    provision = embedded.provision({"name": env_name})
    teardown = embedded.teardown(env_name)

    # Then both succeed, each step having been retried once
    assert provision.status == "SUCCEEDED", provision.cause
    assert teardown.status == "SUCCEEDED", teardown.cause
    retried = failed_task_errors(embedded, provision.arn)
    assert set(retried) == {"TransientAwsError"}
    assert len(retried) >= 13  # every distinct provisioning step ran at least once
    assert embedded.remaining(env_name) == []


def test_throttling_that_outlives_the_other_retries_is_retried_for_minutes(embedded, env_name):
    # Given steps throttled past boto3's retries six times in a row: more than the transient
    # rule's four attempts (bounds.TRANSIENT_RETRY), within the throttling rule's
    steps = ("create_target_group", "register_task_definition", "delete_target_groups")
    embedded.reconfigure(
        faults=Faults(steps=[StepFault(step=step, error="AwsThrottled", times=6) for step in steps])
    )

    # When the example is provisioned and torn down
    provision = embedded.provision({"name": env_name})
    teardown = embedded.teardown(env_name)

    # Then both succeed, after the throttled attempts
    assert provision.status == "SUCCEEDED", provision.cause
    assert teardown.status == "SUCCEEDED", teardown.cause
    assert failed_task_errors(embedded, provision.arn) == ["AwsThrottled"] * 12
    assert failed_task_errors(embedded, teardown.arn) == ["AwsThrottled"] * 6
    assert embedded.remaining(env_name) == []


def test_throttled_aws_calls_are_absorbed(embedded, env_name):
    # Given one AWS call in four is throttled
    embedded.reconfigure(faults=Faults(throttle_probability=0.25, seed=11))

    provision = embedded.provision({"name": env_name})
    teardown = embedded.teardown(env_name)

    assert provision.status == "SUCCEEDED", provision.cause
    assert teardown.status == "SUCCEEDED", teardown.cause
    assert embedded.counters.throttled > 0
    assert embedded.remaining(env_name) == []


def test_tasks_that_keep_stopping_fail_within_the_deadline_with_their_reasons(embedded, env_name):
    # Given an image that cannot be pulled
    reason = "CannotPullContainerError: pull access denied for nginx:does-not-exist"
    embedded.reconfigure(faults=Faults(tasks_stop_reason=reason))
    spec = {"name": env_name, "polling": {"interval_seconds": 5, "deadline_seconds": 600}}

    # When it is provisioned
    execution = embedded.provision(spec)

    # Then it fails at the stability check, quoting the stopped tasks, well within the deadline
    assert execution.status == "FAILED"
    assert execution.error == "ServiceUnstable"
    cause = execution.cause_json()
    assert cause["failed_step"] == "Check the service is stable"
    assert reason in cause["message"]
    assert "3 task(s) stopped" in cause["message"]
    assert execution.duration < 600
    # And compensation removed everything
    assert cause["resources"].startswith("rolled back: ")
    assert embedded.remaining(env_name) == []


def test_without_the_circuit_breaker_stopping_tasks_are_still_detected(embedded, env_name):
    embedded.reconfigure(faults=Faults(tasks_stop_reason="Essential container in task exited"))
    spec = {"name": env_name, "service": {"circuit_breaker": False}}

    execution = embedded.provision(spec)

    assert execution.status == "FAILED"
    assert execution.error == "ServiceUnstable"
    assert embedded.remaining(env_name) == []


def test_the_deadline_bounds_the_wait_for_the_load_balancer(embedded, env_name):
    # Given AWS's real ~150 s to an active ALB and a 60 s deadline
    embedded.reconfigure(model=REAL)
    spec = {"name": env_name, "polling": {"interval_seconds": 10, "deadline_seconds": 60}}

    execution = embedded.provision(spec)

    assert execution.status == "FAILED"
    assert execution.error == "DeadlineExceeded"
    cause = execution.cause_json()
    assert cause["failed_step"] == "Check the load balancers are active"
    # the last look, in words (no JSON quoted inside the failure)
    assert cause["message"] == (
        f"The load balancers were not active within 60 seconds: fenv-{env_name}-web provisioning"
    )
    assert embedded.remaining(env_name) == []


def test_security_groups_refused_a_few_times_are_still_deleted(embedded, env_name):
    assert embedded.provision({"name": env_name}).status == "SUCCEEDED"
    # Given DependencyViolation three more times than the network interfaces alone cause
    embedded.reconfigure(faults=Faults(dependency_violations=3))

    teardown = embedded.teardown(env_name)

    assert teardown.status == "SUCCEEDED", teardown.cause
    assert failed_task_errors(embedded, teardown.arn).count("ResourceNotReady") >= 3
    assert embedded.remaining(env_name) == []


def test_a_dependency_that_never_goes_fails_the_teardown_within_its_bound(embedded, env_name):
    assert embedded.provision({"name": env_name}).status == "SUCCEEDED"
    embedded.reconfigure(faults=Faults(dependency_violations=-1))

    teardown = embedded.teardown(env_name)

    # Then the teardown stops (bounded), naming the step; everything but the groups is gone
    assert teardown.status == "FAILED"
    cause = teardown.cause_json()
    assert cause["failed_step"] == "Delete the security groups"
    assert cause["error"] == "ResourceNotReady"
    left = embedded.remaining(env_name)
    assert left
    assert all(item.startswith("security group") for item in left)

    # And running it again once the dependency is gone finishes the job
    embedded.reconfigure(faults=Faults())
    again = embedded.teardown(env_name)
    assert again.status == "SUCCEEDED", again.cause
    assert embedded.remaining(env_name) == []


def test_teardown_twice_succeeds_and_the_second_finds_nothing(embedded, env_name):
    assert embedded.provision({"name": env_name}).status == "SUCCEEDED"

    first = embedded.teardown(env_name)
    second = embedded.teardown(env_name)

    assert first.status == second.status == "SUCCEEDED"
    assert first.output["deleted_count"] == 10
    assert second.output["deleted_count"] == 0
    assert embedded.remaining(env_name) == []


def test_teardown_of_an_unknown_name_succeeds(embedded):
    teardown = embedded.teardown("never-created")

    assert teardown.status == "SUCCEEDED"
    assert teardown.output["deleted_count"] == 0
    assert teardown.output["found"] == 0


def test_a_half_built_environment_is_retained_then_torn_down(embedded, env_name):
    # Given provisioning that fails after the service exists, with on_failure: retain
    embedded.reconfigure(faults=Faults(steps=[StepFault(step="create_service", when="after")]))
    execution = embedded.provision({"name": env_name, "on_failure": "retain"})

    # Then the resources are kept for inspection and the failure says how to go on
    assert execution.status == "FAILED"
    cause = execution.cause_json()
    assert cause["resources"].startswith("retained")
    assert "teardown" in cause["next"]
    assert "same input" in cause["next"]
    assert len(embedded.remaining(env_name)) == 9

    # When the teardown runs with only the environment's name (no recorded ids)
    embedded.reconfigure(faults=Faults())
    teardown = embedded.teardown(env_name)

    # Then it finds everything by name and tag and deletes it
    assert teardown.status == "SUCCEEDED", teardown.cause
    assert teardown.output["deleted_count"] == 10
    assert embedded.remaining(env_name) == []


def test_a_retained_failure_resumes_by_running_the_same_input_again(embedded, env_name):
    embedded.reconfigure(faults=Faults(steps=[StepFault(step="verify_endpoint", times=1)]))
    spec = {"name": env_name, "on_failure": "retain"}
    assert embedded.provision(spec).status == "FAILED"
    before = sorted(embedded.remaining(env_name))

    # When the same input is provisioned again, it adopts what exists and completes
    resumed = embedded.provision(spec)

    assert resumed.status == "SUCCEEDED", resumed.cause
    assert sorted(embedded.remaining(env_name)) == before  # nothing duplicated
    assert embedded.teardown(env_name).status == "SUCCEEDED"
    assert embedded.remaining(env_name) == []


def test_the_teardown_waits_as_long_as_the_environment_drains(embedded, env_name):
    # Given an environment whose tasks drain for 20 minutes (beyond the default 15-minute bound)
    spec = {
        "name": env_name,
        "load_balancers": [{"target_group": {"deregistration_delay_seconds": 1200}}],
    }
    assert embedded.provision(spec).status == "SUCCEEDED"

    teardown = embedded.teardown(env_name)

    # Then its bound follows the recorded spec and it waits the drain out
    assert teardown.status == "SUCCEEDED", teardown.cause
    assert teardown.duration > 1200
    assert embedded.remaining(env_name) == []
