"""Real applications on the embedded AWS: their own task role, sidecars they wait for, private
images, a command before traffic, and environments that cannot read each other's secrets -
each refused before any write when the deployment does not allow it, and refused by IAM too
(the embedded AWS evaluates the deployed roles' policies)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from embedded_aws import iam_policy, prerequisites
from embedded_aws.emulator import ACCOUNT_ID, EmbeddedAWS, Execution
from embedded_aws.faults import Faults
from embedded_aws.task_launch import Launch
from fargate_env import spec as spec_model
from tests.support import sample_spec

REGION = "us-east-1"
APP_ROLES = f"arn:aws:iam::{ACCOUNT_ID}:role/fargate-env-apps"
SECRETS = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:fargate-env"
PRE_TRAFFIC_CHECK = "Check the pre-traffic task"


def launches(embedded: EmbeddedAWS, env: str) -> list[Launch]:
    """What ECS's agent found starting each task of the environment."""
    return [item.launch for item in embedded.plane.launches if item.cluster == f"fenv-{env}"]


def one_off_launches(embedded: EmbeddedAWS, env: str) -> list[Any]:
    return [
        item
        for item in embedded.plane.launches
        if item.cluster == f"fenv-{env}" and item.started_by.startswith("fenv-once-")
    ]


def one_off_tasks(embedded: EmbeddedAWS, env: str) -> list[Any]:
    """The environment's tasks started by RunTask, as the embedded AWS plays them."""
    tasks = embedded.plane.one_offs.tasks.values()
    return [task for task in tasks if task.moto_task.cluster_name == f"fenv-{env}"]


def provisioned_and_torn_down(embedded: EmbeddedAWS, spec: dict[str, Any]) -> Execution:
    provision = embedded.provision(spec)
    assert provision.status == "SUCCEEDED", provision.cause
    teardown = embedded.teardown(spec["name"])
    assert teardown.status == "SUCCEEDED", teardown.cause
    assert embedded.remaining(spec["name"]) == []
    return provision


def entered(embedded: EmbeddedAWS, execution: Execution) -> list[str]:
    """The states the execution entered, in order."""
    return [
        event["stateEnteredEventDetails"]["name"]
        for event in embedded.history(execution.arn)
        if "stateEnteredEventDetails" in event
    ]


def refused_before_any_write(embedded: EmbeddedAWS, execution: Execution, field: str) -> str:
    """The provisioning failed at validation naming `field`; no step made an AWS call."""
    assert execution.status == "FAILED"
    cause = execution.cause_json()
    assert (cause["failed_step"], execution.error) == (
        "Validate the environment spec",
        "InvalidSpec",
    )
    message = cause["message"]
    assert f"{field}: " in message
    assert cause["resources"] == "none created"
    return str(message)


def invoke(embedded: EmbeddedAWS, logical_id: str, event: dict[str, Any]) -> dict[str, Any]:
    """Invoke a deployed step directly (as Step Functions would), bypassing validation."""
    response = embedded.client("lambda").invoke(
        FunctionName=embedded.physical[logical_id], Payload=json.dumps(event)
    )
    return {"error": response.get("FunctionError"), **json.loads(response["Payload"].read())}


# ---------------------------------------------------------------- the application's own role


def test_an_app_with_its_own_role_runs_every_task_with_it(embedded, env_name):
    # Given the app sample: its own role (and ECS Exec), a sidecar, a secret, a migration
    spec = prerequisites.provide(embedded, sample_spec("app", env_name))
    role = f"{APP_ROLES}/demo-shop-app"
    assert spec["container"]["task_role_arn"] == role

    # When it is provisioned and torn down
    provisioned_and_torn_down(embedded, spec)

    # Then every task - the migration and the service's - assumed the app's role, and the
    # environment's own execution role, which could read the environment's secret
    started = launches(embedded, env_name)
    assert len(started) >= 2
    execution_role = (
        f"arn:aws:iam::{ACCOUNT_ID}:role/fargate-env/fargate-env/fenv-{env_name}-exec-{REGION}"
    )
    for launch in started:
        assert (launch.task_role, launch.execution_role, launch.failure) == (
            role,
            execution_role,
            None,
        )
        assert launch.secrets_read == {
            "app.DATABASE_URL": spec["container"]["secrets"]["DATABASE_URL"]
        }


def test_without_a_role_the_tasks_get_none_and_with_exec_only_the_exec_role(embedded, env_name):
    # Given the runbook's example, then the same with ECS Exec
    provisioned_and_torn_down(embedded, {"name": env_name})
    without = launches(embedded, env_name)
    with_exec = {"name": env_name, "service": {"enable_execute_command": True}}
    provisioned_and_torn_down(embedded, with_exec)

    # Then no task role at all, then the deployment's Exec role (ssmmessages only)
    assert {launch.task_role for launch in without} == {None}
    exec_role = f"arn:aws:iam::{ACCOUNT_ID}:role/{embedded.physical['TaskRole']}"
    assert launches(embedded, env_name)[-1].task_role == exec_role
    policies = iam_policy.role(embedded.plane.inspect_account().iam, exec_role)
    assert policies is not None
    assert policies.allows("ssmmessages:OpenDataChannel", "*")
    assert not policies.allows("s3:GetObject", "arn:aws:s3:::any-bucket/any-key")


def test_a_role_outside_the_allowed_path_is_refused_before_any_write_and_by_iam(embedded, env_name):
    # Given a spec naming a role that is not under the deployment's AppTaskRolePath
    admin = f"arn:aws:iam::{ACCOUNT_ID}:role/admin"
    spec = {"name": env_name, "container": {"task_role_arn": admin}}

    # When it is provisioned / Then validation refuses it, naming the field, touching nothing
    message = refused_before_any_write(
        embedded, embedded.provision(spec), "container.task_role_arn"
    )
    assert f"{APP_ROLES}/" in message
    assert embedded.remaining(env_name) == []

    # And the step that registers task definitions could not pass it either (IAM's PassRole)
    normalised = spec_model.normalise(spec_model.parse(spec))
    event = {
        "spec": normalised,
        "log_group": f"/fargate-env/{env_name}",
        "execution_name": "direct",
    }
    event["execution_role_arn"] = f"{APP_ROLES}/allowed-but-irrelevant"
    refused = invoke(embedded, "RegisterTaskDefinitionFunction", event)
    assert refused["errorType"] == "AwsRequestFailed"
    assert "AccessDeniedException" in refused["errorMessage"]
    assert f"iam:PassRole on resource: {admin}" in refused["errorMessage"]


# ---------------------------------------------------------------- sidecars


def with_a_proxy(env: str, *, condition: str = "HEALTHY") -> dict[str, Any]:
    proxy = {
        "name": "proxy",
        "image": "public.ecr.aws/envoyproxy/envoy:v1.31-latest",
        "cpu": 128,
        "memory": 128,
        "health_check": {
            "command": ["CMD-SHELL", "curl -f localhost:9901/ready"],
            "interval_seconds": 20,
        },
    }
    return {
        "name": env,
        "container": {"depends_on": [{"container": "proxy", "condition": condition}]},
        "sidecars": [proxy],
    }


def test_a_sidecar_that_must_be_healthy_first_delays_the_main_container(embedded, env_name):
    # Given an app that waits until its proxy's health check passes
    provision = embedded.provision(with_a_proxy(env_name))
    assert provision.status == "SUCCEEDED", provision.cause

    # Then the load balancer still targets the main container, in the task with the proxy,
    # and the main container started after the proxy's first passing check (20 s)
    definition = embedded.client("ecs").describe_task_definition(
        taskDefinition=provision.output["resources"]["task_definition"]["arn"]
    )["taskDefinition"]
    main, proxy = definition["containerDefinitions"]
    assert main["dependsOn"] == [{"containerName": "proxy", "condition": "HEALTHY"}]
    assert (proxy["essential"], proxy["cpu"], proxy["memory"]) == (True, 128, 128)
    [service] = embedded.client("ecs").describe_services(
        cluster=f"fenv-{env_name}", services=[f"fenv-{env_name}"]
    )["services"]
    assert service["loadBalancers"][0]["containerName"] == "app"
    assert [launch.start_delay for launch in launches(embedded, env_name)] == [20.0]
    assert embedded.teardown(env_name).status == "SUCCEEDED"
    assert embedded.remaining(env_name) == []


def test_a_sidecar_that_never_turns_healthy_fails_the_provisioning_and_rolls_back(
    embedded, env_name
):
    # Given a proxy whose health check never passes
    embedded.reconfigure(faults=Faults(unhealthy_containers=frozenset({"proxy"})))
    spec = with_a_proxy(env_name) | {"polling": {"interval_seconds": 5, "deadline_seconds": 600}}

    # When it is provisioned
    provision = embedded.provision(spec)

    # Then the service never stabilises: the tasks stop for the failed health checks
    assert provision.status == "FAILED"
    cause = provision.cause_json()
    assert (cause["failed_step"], provision.error) == (
        "Check the service is stable",
        "ServiceUnstable",
    )
    assert "Task failed container health checks: container proxy is UNHEALTHY" in cause["message"]
    assert cause["resources"].startswith("rolled back: ")  # the rollback succeeded
    assert embedded.remaining(env_name) == []


# ---------------------------------------------------------------- private images

PRIVATE_IMAGE = "registry.example.com/shop/web:1.4.2"


def test_a_private_registry_image_is_pulled_with_the_environments_credentials(embedded, env_name):
    # Given an image from a private registry and its login, one of the environment's secrets
    login = f"{SECRETS}/{env_name}/registry-login-AbCdEf"
    spec = {
        "name": env_name,
        "container": {"image": PRIVATE_IMAGE, "registry_credentials_arn": login},
    }
    prerequisites.provide(embedded, spec)

    # When it is provisioned and torn down / Then the tasks pulled it with that login
    provisioned_and_torn_down(embedded, spec)
    assert [launch.registry_credentials_read for launch in launches(embedded, env_name)] == [
        {"app": login}
    ]


def test_an_ecr_image_of_this_account_is_pulled_with_the_environments_own_role(embedded, env_name):
    # Given an image of this account's ECR
    image = f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/shop/web:1.4.2"
    provision = embedded.provision({"name": env_name, "container": {"image": image}})
    assert provision.status == "SUCCEEDED", provision.cause

    # Then the environment's execution role may pull exactly that repository, and did
    role = iam_policy.role(
        embedded.plane.inspect_account().iam, provision.output["resources"]["execution_role"]["arn"]
    )
    assert role is not None
    repository = f"arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repository/shop/web"
    assert role.allows("ecr:BatchGetImage", repository)
    assert not role.allows(
        "ecr:BatchGetImage", f"arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repository/other"
    )
    assert [launch.failure for launch in launches(embedded, env_name)] == [None]
    assert embedded.teardown(env_name).status == "SUCCEEDED"
    assert embedded.remaining(env_name) == []


def test_a_private_registry_image_without_credentials_cannot_be_pulled(embedded, env_name):
    spec = {
        "name": env_name,
        "container": {"image": PRIVATE_IMAGE},
        "polling": {"interval_seconds": 5, "deadline_seconds": 600},
    }

    provision = embedded.provision(spec)

    assert provision.status == "FAILED"
    assert (
        f"CannotPullContainerError: pull access denied for {PRIVATE_IMAGE}"
        in (provision.cause_json()["message"])
    )
    assert embedded.remaining(env_name) == []


# ---------------------------------------------------------------- the command before traffic


def with_a_migration(env: str, **task: Any) -> dict[str, Any]:
    command = ["./manage.py", "migrate", "--noinput"]
    return {"name": env, "pre_traffic_task": {"command": command, **task}}


def test_a_migration_that_succeeds_runs_before_the_service_is_created(embedded, env_name):
    # Given a migration that prints what it did and exits 0
    lines = ("Applying shop.0041_orders... OK", "Applying shop.0042_index... OK")
    embedded.reconfigure(faults=Faults(one_off_log_lines=lines))

    # When the environment is provisioned
    provision = provisioned_and_torn_down(embedded, with_a_migration(env_name))

    # Then the migration ran (once, as a task of the environment's task definition, with the
    # command overridden) and stopped before the service was created
    states = entered(embedded, provision)
    assert states.index("Run the pre-traffic task") < states.index("Create the service")
    assert states.index(PRE_TRAFFIC_CHECK) < states.index("Create the service")
    assert provision.output["pre_traffic_task"] == {
        "stopped": True,
        "status": "STOPPED",
        "exit_code": 0,
        "log_tail": list(lines),
    }
    [migration] = one_off_launches(embedded, env_name)
    assert (
        migration.launch.task_definition_arn
        == provision.output["resources"]["task_definition"]["arn"]
    )


def test_a_migration_that_fails_rolls_everything_back_with_its_log_tail(embedded, env_name):
    # Given a migration that exits 3 after an error
    error = 'django.db.utils.ProgrammingError: relation "orders" already exists'
    lines = ("Applying shop.0042_index...", error)
    embedded.reconfigure(faults=Faults(one_off_exit_code=3, one_off_log_lines=lines))

    # When the environment is provisioned
    provision = embedded.provision(with_a_migration(env_name))

    # Then it fails naming the step, with the exit code and the log tail in the cause; no
    # service was ever created, and the rollback left nothing
    assert provision.status == "FAILED"
    cause = provision.cause_json()
    assert (cause["failed_step"], provision.error) == (PRE_TRAFFIC_CHECK, "OneOffTaskFailed")
    assert "exited with code 3" in cause["message"]
    assert f"last log lines: Applying shop.0042_index... | {error}" in cause["message"]
    assert "Create the service" not in entered(embedded, provision)
    assert cause["resources"].startswith("rolled back: ")  # the rollback succeeded
    assert embedded.remaining(env_name) == []


def test_a_migration_still_running_at_its_timeout_is_stopped_and_rolled_back(embedded, env_name):
    # Given a migration that never finishes
    embedded.reconfigure(faults=Faults(one_off_run_seconds=None))

    # When the environment is provisioned with a 60-second timeout
    provision = embedded.provision(with_a_migration(env_name, timeout_seconds=60))

    # Then the check stops the task at its timeout and fails; nothing is left, no task runs
    assert provision.status == "FAILED"
    cause = provision.cause_json()
    assert cause["failed_step"] == PRE_TRAFFIC_CHECK
    assert "did not finish within 60 s and was stopped" in cause["message"]
    assert embedded.remaining(env_name) == []
    [task] = one_off_tasks(embedded, env_name)
    assert task.stop_reason == "fargate-env: still running after its timeout of 60 s"


def test_the_rollback_stops_a_migration_cut_short_by_another_failure(embedded, env_name):
    # Given a migration still running when the run step fails after starting it
    from embedded_aws.faults import StepFault

    fault = StepFault(step="run_pre_traffic_task", when="after")
    embedded.reconfigure(faults=Faults(one_off_run_seconds=None, steps=[fault]))

    # When the environment is provisioned
    provision = embedded.provision(with_a_migration(env_name))

    # Then the rollback's teardown stopped the task (the cluster could not go otherwise)
    assert provision.status == "FAILED"
    assert provision.cause_json()["resources"].startswith("rolled back: ")
    [task] = one_off_tasks(embedded, env_name)
    assert task.stop_reason == "fargate-env: the environment is being torn down"
    assert embedded.remaining(env_name) == []


def test_a_retried_run_step_starts_the_migration_once(embedded, env_name):
    # Given the run step failing transiently right after it started the task
    from embedded_aws.faults import StepFault

    fault = StepFault(step="run_pre_traffic_task", when="after", error="TransientAwsError", times=1)
    embedded.reconfigure(faults=Faults(steps=[fault]))

    # When the environment is provisioned (the state machine retries the step)
    provisioned_and_torn_down(embedded, with_a_migration(env_name))

    # Then one task ran: the retry found it by its marker
    assert len(one_off_launches(embedded, env_name)) == 1


# ---------------------------------------------------------------- secrets isolation


def test_a_spec_naming_another_environments_secret_is_refused_before_any_write_and_by_iam(
    embedded, env_name, monkeypatch
):
    # Given environment B's secret, and a spec for A naming it
    theirs = f"{SECRETS}/someone-else/db-password-AbCdEf"
    spec = {"name": env_name, "container": {"secrets": {"DB_PASSWORD": theirs}}}
    prerequisites.provide(embedded, spec)

    # When A is provisioned / Then validation refuses it, naming the field, touching nothing
    message = refused_before_any_write(
        embedded, embedded.provision(spec), "container.secrets.DB_PASSWORD"
    )
    assert f"{SECRETS}/{env_name}/" in message
    assert embedded.remaining(env_name) == []

    # And even an execution role whose own policy names B's secret (the step run directly,
    # without validation) could not read it: the deployment's boundary allows A's folder only
    normalised = spec_model.normalise(spec_model.parse(spec))
    made = invoke(
        embedded,
        "CreateExecutionRoleFunction",
        {"spec": normalised, "log_group": f"/fargate-env/{env_name}", "execution_name": "direct"},
    )
    assert made["error"] is None, made
    role = iam_policy.role(embedded.plane.inspect_account().iam, made["arn"])
    assert role is not None
    assert any(theirs in json.dumps(policy) for policy in role.identity)
    assert not role.allows("secretsmanager:GetSecretValue", theirs)
    assert embedded.teardown(env_name).status == "SUCCEEDED"
    assert embedded.remaining(env_name) == []


def test_an_environment_reads_its_own_and_the_shared_secrets(embedded, env_name):
    # Given a secret of the environment's own folder and one of the shared folder
    own = f"{SECRETS}/{env_name}/api-token-AbCdEf"
    shared = f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:parameter/fargate-env/_shared/smtp-password"
    spec = {"name": env_name, "container": {"secrets": {"API_TOKEN": own, "SMTP": shared}}}
    prerequisites.provide(embedded, spec)

    # When it is provisioned / Then its tasks read both
    provisioned_and_torn_down(embedded, spec)
    assert launches(embedded, env_name)[0].secrets_read == {
        "app.API_TOKEN": own,
        "app.SMTP": shared,
    }


@pytest.mark.parametrize(
    ("request_", "refusal"),
    [
        ({"ephemeralStorage": {"sizeInGiB": 250}}, "between 21 and 200"),
        (
            {
                "containerDefinitions": [
                    {
                        "name": "app",
                        "image": "nginx",
                        "dependsOn": [{"containerName": "db", "condition": "HEALTHY"}],
                    },
                    {"name": "db", "image": "postgres"},
                ]
            },
            "the HEALTHY condition needs a healthCheck",
        ),
        (
            {
                "containerDefinitions": [
                    {
                        "name": "app",
                        "image": "nginx",
                        "dependsOn": [{"containerName": "init", "condition": "SUCCESS"}],
                    },
                    {"name": "init", "image": "busybox", "essential": True},
                ]
            },
            "SUCCESS cannot be set on an essential container",
        ),
        (
            {"containerDefinitions": [{"name": "app", "image": "nginx", "cpu": 512}]},
            "The containers' cpu (512) exceeds the task's cpu (256)",
        ),
    ],
)
def test_ecs_refuses_task_definitions_it_would_refuse_on_aws(embedded, request_, refusal):
    ecs = embedded.client("ecs")
    request = {
        "family": "fenv-refused",
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [{"name": "app", "image": "nginx"}],
        **request_,
    }
    with pytest.raises(
        ecs.exceptions.ClientException, match=refusal.replace("(", r"\(").replace(")", r"\)")
    ):
        ecs.register_task_definition(**request)
