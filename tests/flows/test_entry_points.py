"""Every entry point refuses bad input before any work, naming the field: the teardown's input
(console, scheduler, rule), the provisioning's (as written or from an event) and its size."""

from __future__ import annotations

from typing import Any

import pytest

from embedded_aws.emulator import EmbeddedAWS, Execution
from fargate_env import sizes
from tests.flows.request_times import at
from tests.flows.test_lifecycle import registry_item


def refused(embedded: EmbeddedAWS, machine: str, payload: Any, name: str) -> Execution:
    """Run an execution that must be refused: it fails having called no AWS API from a step."""
    calls_before = sum(embedded.counters.api_calls.values())
    execution = embedded.wait(embedded.start_execution(machine, payload, name))
    assert execution.status == "FAILED", execution.output
    assert sum(embedded.counters.api_calls.values()) == calls_before
    return execution


@pytest.mark.parametrize(
    ("payload", "complaint"),
    [
        pytest.param({}, "name: missing", id="empty"),
        pytest.param({"spec": {"name": "demo"}}, "spec: unknown field", id="a-spec"),
        pytest.param("BAD NAME", "input: the teardown takes a JSON object", id="a-string"),
        pytest.param({"name": "BAD NAME"}, "name: 'BAD NAME' must be 2-20", id="a-bad-name"),
        pytest.param({"name": 42}, "name: must be the environment's name", id="a-number"),
        pytest.param({"name": "demo", "reason": "bored"}, "reason: 'bored' is not", id="reason"),
        pytest.param(
            {"name": "demo", "requested_at": "yesterday"},
            "requested_at: 'yesterday' is not an ISO 8601 time",
            id="a-bad-time",
        ),
        pytest.param(
            {"name": "demo", "deployment": "other-stack"},
            "deployment: the request is for the deployment 'other-stack'",
            id="another-deployment",
        ),
        pytest.param(
            {"detail": {"name": "demo", "deployment": "fargate-env", "colour": "red"}, "time": 0},
            "detail.colour: unknown field",
            id="an-event-with-more",
        ),
    ],
)
def test_a_teardown_input_is_refused_naming_the_field(embedded, env_name, payload, complaint):
    execution = refused(embedded, embedded.teardown_arn, payload, f"refused-{env_name}")

    # (never States.QueryEvaluationError, never a SUCCEEDED no-op)
    assert execution.error == "InvalidRequest"
    cause = execution.cause_json()
    assert complaint in cause["message"], cause
    assert cause["failed_step"] == "Claim the environment for teardown"
    assert cause["resources"] == "none deleted"
    assert "name field" in cause["next"]


def test_a_request_from_the_future_is_refused(embedded, env_name):
    later = at(embedded, 3600)

    execution = refused(
        embedded,
        embedded.provision_arn,
        {"spec": {"name": env_name}, "requested_at": later},
        f"future-{env_name}",
    )

    assert execution.error == "InvalidRequest"
    assert execution.cause_json()["message"].startswith(
        f"requested_at: '{later}' is more than 5 minutes ahead"
    )
    assert registry_item(embedded, env_name) is None


def test_a_spec_beyond_its_size_bound_is_refused_naming_it(embedded, env_name):
    # Given a spec of ~100 KB: it fits StartExecution's 256 KiB, not the spec's 64 KiB
    variables = {f"VARIABLE_{i}": "x" * 1000 for i in range(100)}
    spec = {"name": env_name, "container": {"environment": variables}}

    execution = refused(embedded, embedded.provision_arn, {"spec": spec}, f"big-{env_name}")

    assert execution.error == "InvalidSpec"
    cause = execution.cause_json()
    assert cause["message"].startswith(f"spec: {sizes.json_bytes(spec):,} bytes as JSON; at most")
    assert cause["resources"] == "none created"
    assert registry_item(embedded, env_name) is None
    assert embedded.remaining(env_name) == []


def test_environment_variables_beyond_what_ecs_takes_are_refused_before_any_resource(
    embedded, env_name
):
    # Given a spec within its own bound whose task definition would pass ECS's 64 KiB
    variables = {f"V{i:04d}": "v" * 12 for i in range(1700)}
    spec = {"name": env_name, "container": {"environment": variables}}
    assert sizes.json_bytes(spec) < sizes.SPEC_MAX_BYTES

    execution = refused(embedded, embedded.provision_arn, {"spec": spec}, f"envs-{env_name}")

    # Then the field is named, and nothing exists (on AWS, ECS would refuse RegisterTaskDefinition
    # after the security groups, the target group and the load balancer were created)
    assert execution.error == "InvalidSpec"
    message = execution.cause_json()["message"]
    assert message.startswith("container.environment: the task definition ECS would receive is")
    assert embedded.remaining(env_name) == []
