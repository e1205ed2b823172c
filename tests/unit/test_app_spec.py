"""The spec fields of real applications: container options, sidecars, the application's role,
private images, the command before traffic - each bad value named by its field - and the
deployment's rules applied by the validate step (whose secrets, which roles, which
repositories, ECS's 64 KiB), before anything is created."""

from __future__ import annotations

from typing import Any

import pytest

from fargate_env import spec, task_definition, validation
from fargate_env.errors import InvalidSpec
from tests.unit.test_spec import problem_paths_named

ACCOUNT = "123456789012"
OWN_SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:fargate-env/demo/db-AbCdEf"
OWN_PARAMETER = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/fargate-env/demo/db-password"
SHARED_SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:fargate-env/_shared/smtp-AbCdEf"
APP_ROLE = f"arn:aws:iam::{ACCOUNT}:role/fargate-env-apps/demo-app"
PROXY = {"name": "proxy", "image": "envoyproxy/envoy:v1.31-latest"}
CHECKED = {"command": ["CMD", "/ready"]}


def raw(**fields: Any) -> dict[str, Any]:
    return {"name": "demo", **fields}


def container(**fields: Any) -> dict[str, Any]:
    return raw(container=fields)


def with_proxy(main: dict[str, Any] | None = None, **proxy: Any) -> dict[str, Any]:
    return raw(container=main or {}, sidecars=[{**PROXY, **proxy}])


INVALID = [
    pytest.param(container(command=[]), ["container.command"], id="empty-command"),
    pytest.param(
        container(entry_point="sh -c"), ["container.entry_point"], id="entry-point-string"
    ),
    pytest.param(
        container(working_directory="app"), ["container.working_directory"], id="relative-dir"
    ),
    pytest.param(container(user="root user"), ["container.user"], id="user-with-space"),
    pytest.param(
        container(ephemeral_storage_gib=20), ["container.ephemeral_storage_gib"], id="storage-20"
    ),
    pytest.param(
        container(ephemeral_storage_gib=201), ["container.ephemeral_storage_gib"], id="storage-201"
    ),
    pytest.param(
        container(ulimits=[{"name": "nproc", "soft_limit": 1, "hard_limit": 1}]),
        ["container.ulimits[0].name"],
        id="ulimit-not-nofile",
    ),
    pytest.param(
        container(ulimits=[{"name": "nofile", "soft_limit": 9, "hard_limit": 8}]),
        ["container.ulimits[0]"],
        id="ulimit-soft-above-hard",
    ),
    pytest.param(
        container(ulimits=[{"name": "nofile", "soft_limit": 1, "hard_limit": 2_000_000}]),
        ["container.ulimits[0].hard_limit"],
        id="ulimit-beyond-fargate",
    ),
    pytest.param(
        container(task_role_arn="my-role"), ["container.task_role_arn"], id="role-not-arn"
    ),
    pytest.param(
        container(registry_credentials_arn=OWN_PARAMETER),
        ["container.registry_credentials_arn"],
        id="registry-credentials-from-ssm",
    ),
    pytest.param(raw(sidecars=[{"name": "proxy"}]), ["sidecars[0].image"], id="sidecar-no-image"),
    pytest.param(with_proxy(memory=5), ["sidecars[0].memory"], id="sidecar-memory-5"),
    pytest.param(
        with_proxy(secrets={"TOKEN": "plain"}),
        ["sidecars[0].secrets.TOKEN"],
        id="sidecar-plain-secret",
    ),
    pytest.param(
        with_proxy(environment={"A": "1"}, secrets={"A": OWN_SECRET}),
        ["sidecars[0].secrets"],
        id="sidecar-variable-twice",
    ),
    pytest.param(raw(sidecars=[PROXY] * 10), ["sidecars"], id="eleven-containers"),
    pytest.param(with_proxy(name="app"), ["sidecars[0].name"], id="sidecar-named-like-the-main"),
    pytest.param(
        with_proxy({"depends_on": [{"container": "db"}]}),
        ["container.depends_on[0].container"],
        id="depends-on-unknown",
    ),
    pytest.param(
        with_proxy({"depends_on": [{"container": "app"}]}),
        ["container.depends_on[0].container"],
        id="depends-on-itself",
    ),
    pytest.param(
        with_proxy({"depends_on": [{"container": "proxy", "condition": "HEALTHY"}]}),
        ["container.depends_on[0].condition"],
        id="healthy-without-health-check",
    ),
    pytest.param(
        with_proxy({"depends_on": [{"container": "proxy", "condition": "SUCCESS"}]}),
        ["container.depends_on[0].condition"],
        id="success-of-an-essential-sidecar",
    ),
    pytest.param(
        with_proxy({"depends_on": [{"container": "proxy"}]}, depends_on=[{"container": "app"}]),
        ["container.depends_on"],
        id="waiting-in-a-circle",
    ),
    pytest.param(
        with_proxy({"depends_on": [{"container": "proxy", "condition": "ALIVE"}]}),
        ["container.depends_on[0].condition"],
        id="unknown-condition",
    ),
    pytest.param(with_proxy(cpu=256), ["sidecars"], id="sidecars-take-all-the-cpu"),
    pytest.param(with_proxy(memory=512), ["sidecars"], id="sidecars-take-all-the-memory"),
    pytest.param(
        raw(pre_traffic_task={}), ["pre_traffic_task.command"], id="pre-traffic-no-command"
    ),
    pytest.param(
        raw(pre_traffic_task={"command": ["migrate"], "timeout_seconds": 29}),
        ["pre_traffic_task.timeout_seconds"],
        id="pre-traffic-timeout-29",
    ),
    pytest.param(
        raw(pre_traffic_task={"command": ["migrate"], "timeout_seconds": 3601}),
        ["pre_traffic_task.timeout_seconds"],
        id="pre-traffic-timeout-3601",
    ),
]


@pytest.mark.parametrize(("given", "paths"), INVALID)
def test_a_bad_value_is_refused_naming_its_field(given, paths):
    with pytest.raises(InvalidSpec) as raised:
        spec.parse(given)
    for path in paths:
        assert problem_paths_named(str(raised.value), path), f"{path}: {raised.value}"


def test_every_problem_of_the_containers_is_reported_at_once():
    given = with_proxy(
        {"depends_on": [{"container": "db"}, {"container": "proxy", "condition": "HEALTHY"}]},
        name="proxy",
        cpu=300,
    )
    given["sidecars"].append({**PROXY})  # a second "proxy"
    with pytest.raises(InvalidSpec, match=r"\(4 problems\)") as raised:
        spec.parse(given)
    for path in (
        "sidecars[1].name",
        "container.depends_on[0].container",
        "container.depends_on[1].condition",
        "sidecars",
    ):
        assert problem_paths_named(str(raised.value), path), path


def test_a_real_application_parses_and_maps_to_the_task_definition(monkeypatch):
    # Given the fields a real application sets
    given = raw(
        container={
            "command": ["gunicorn", "app:app"],
            "entry_point": ["/docker-entrypoint.sh"],
            "working_directory": "/srv",
            "user": "1000:1000",
            "read_only_root_filesystem": True,
            "init_process": True,
            "ulimits": [{"name": "nofile", "soft_limit": 4096, "hard_limit": 65535}],
            "ephemeral_storage_gib": 50,
            "task_role_arn": APP_ROLE,
            "registry_credentials_arn": OWN_SECRET,
            "depends_on": [
                {"container": "proxy", "condition": "HEALTHY"},
                {"container": "seed", "condition": "SUCCESS"},
            ],
        },
        sidecars=[
            {
                **PROXY,
                "cpu": 128,
                "memory": 256,
                "health_check": CHECKED,
                "secrets": {"KEY": SHARED_SECRET},
            },
            {
                "name": "seed",
                "image": "busybox",
                "essential": False,
                "command": ["sh", "-c", "true"],
            },
        ],
    )

    # When it is parsed and its task definition built
    request = task_definition.build_request(
        spec.normalise(spec.parse(given)), "/fargate-env/demo", "ROLE"
    )

    # Then every field lands where ECS reads it
    main, proxy, seed = request["containerDefinitions"]
    assert (request["taskRoleArn"], request["executionRoleArn"]) == (APP_ROLE, "ROLE")
    assert request["ephemeralStorage"] == {"sizeInGiB": 50}
    assert (main["command"], main["entryPoint"], main["workingDirectory"], main["user"]) == (
        ["gunicorn", "app:app"],
        ["/docker-entrypoint.sh"],
        "/srv",
        "1000:1000",
    )
    assert main["readonlyRootFilesystem"] is True
    assert main["linuxParameters"] == {"initProcessEnabled": True}
    assert main["ulimits"] == [{"name": "nofile", "softLimit": 4096, "hardLimit": 65535}]
    assert main["repositoryCredentials"] == {"credentialsParameter": OWN_SECRET}
    assert main["dependsOn"] == [
        {"containerName": "proxy", "condition": "HEALTHY"},
        {"containerName": "seed", "condition": "SUCCESS"},
    ]
    assert (main["essential"], "portMappings" in main) == (True, True)
    assert (proxy["essential"], proxy["cpu"], proxy["memory"]) == (True, 128, 256)
    assert proxy["healthCheck"]["command"] == ["CMD", "/ready"]
    assert proxy["secrets"] == [{"name": "KEY", "valueFrom": SHARED_SECRET}]
    assert "portMappings" not in proxy
    assert (seed["essential"], seed["command"], "memory" in seed) == (
        False,
        ["sh", "-c", "true"],
        False,
    )
    # every container logs to the environment's group, in its own streams
    assert {
        c["logConfiguration"]["options"]["awslogs-stream-prefix"]
        for c in request["containerDefinitions"]
    } == {"demo"}


def test_without_a_role_a_task_gets_none_and_with_ecs_exec_the_exec_role(monkeypatch):
    monkeypatch.setenv(task_definition.EXEC_TASK_ROLE_ENV, "EXEC-ROLE")
    plain = spec.normalise(spec.parse(raw()))
    with_exec = spec.normalise(spec.parse(raw(service={"enable_execute_command": True})))
    own = spec.normalise(
        spec.parse(
            raw(container={"task_role_arn": APP_ROLE}, service={"enable_execute_command": True})
        )
    )
    assert "taskRoleArn" not in task_definition.build_request(plain, "/g", "R")
    assert task_definition.build_request(with_exec, "/g", "R")["taskRoleArn"] == "EXEC-ROLE"
    # ECS Exec goes on working with the application's role (its owner adds ssmmessages)
    assert task_definition.build_request(own, "/g", "R")["taskRoleArn"] == APP_ROLE


# ---------------------------------------------------------------- what the deployment allows


@pytest.fixture
def deployment_rules(deployment: dict[str, str]) -> dict[str, str]:
    """The validate step's settings, as template.yaml gives them (tests/support.py)."""
    return deployment


def problems_of(given: dict[str, Any]) -> str:
    with pytest.raises(InvalidSpec) as raised:
        validation.validate({"spec": given})
    return str(raised.value)


def test_an_environment_may_name_its_own_and_the_shared_secrets(deployment_rules):
    given = container(
        secrets={"DB": OWN_SECRET, "PASSWORD": OWN_PARAMETER, "SMTP": SHARED_SECRET},
        registry_credentials_arn=OWN_SECRET,
    )
    assert (
        validation.validate({"spec": given})["spec"]["container"]["secrets"]["SMTP"]
        == SHARED_SECRET
    )


@pytest.mark.parametrize(
    "reference",
    [
        OWN_SECRET.replace("/demo/", "/other/"),
        OWN_PARAMETER.replace("/demo/", "/demo-b/"),
        OWN_SECRET.replace("fargate-env/demo/", "elsewhere/demo/"),
        OWN_SECRET.replace(ACCOUNT, "210987654321"),
    ],
    ids=[
        "another-environments-secret",
        "a-lookalike-folder",
        "outside-the-prefix",
        "another-account",
    ],
)
def test_another_environments_secret_is_refused_naming_the_field(deployment_rules, reference):
    message = problems_of(with_proxy(secrets={"TOKEN": reference}))
    assert problem_paths_named(message, "sidecars[0].secrets.TOKEN")
    assert "fargate-env/demo/" in message


def test_registry_credentials_of_another_environment_are_refused(deployment_rules):
    message = problems_of(container(registry_credentials_arn=OWN_SECRET.replace("/demo/", "/b/")))
    assert problem_paths_named(message, "container.registry_credentials_arn")


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (APP_ROLE, True),
        (f"arn:aws:iam::{ACCOUNT}:role/fargate-env-apps/team/billing", True),
        (f"arn:aws:iam::{ACCOUNT}:role/admin", False),
        (f"arn:aws:iam::{ACCOUNT}:role/fargate-env-apps-evil/x", False),
        ("arn:aws:iam::210987654321:role/fargate-env-apps/demo-app", False),
    ],
)
def test_only_roles_under_the_deployments_path_may_be_given_to_tasks(
    deployment_rules, role, allowed
):
    given = container(task_role_arn=role)
    if allowed:
        assert validation.validate({"spec": given})["spec"]["container"]["task_role_arn"] == role
    else:
        message = problems_of(given)
        assert problem_paths_named(message, "container.task_role_arn")
        assert "role/fargate-env-apps/ only" in message


@pytest.mark.parametrize(
    ("image", "allowed"),
    [
        (f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/shop/web:1.2", True),
        (f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/shop/web@sha256:{'a' * 64}", True),
        ("210987654321.dkr.ecr.us-east-1.amazonaws.com/shop/web:1.2", False),
        (f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/shop/web:1.2", False),
        ("registry.example.com/shop/web:1.2", True),  # not ECR: credentials, if any, decide
    ],
)
def test_ecr_images_come_from_the_allowed_repositories(
    deployment_rules, monkeypatch, image, allowed
):
    given = container(image=image)
    if allowed:
        validation.validate({"spec": given})
    else:
        assert problem_paths_named(problems_of(given), "container.image")
    # another account's repository, once the deployment lists it
    monkeypatch.setenv(
        validation.ALLOWED_ECR_REPOSITORIES_ENV,
        f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/*,arn:aws:ecr:*:210987654321:repository/shop/*",
    )
    if image.startswith("210987654321"):
        validation.validate({"spec": given})


def test_a_task_definition_beyond_64_kib_is_refused_naming_the_largest_parts(deployment_rules):
    # Given many short variables (a spec within its own 64 KiB, each a name/value object in the
    # task definition): 1,500 in the main container and 300 in a sidecar
    def variables(count: int) -> dict[str, str]:
        return {f"V{i:04d}": "v" * 12 for i in range(count)}

    given = with_proxy({"environment": variables(1500)}, environment=variables(300))
    message = problems_of(given)
    assert problem_paths_named(message, "container.environment")
    assert "ECS allows 65,536 (64 KiB)" in message
    assert message.index("container ") < message.index("sidecars[0] ")  # largest first
    # and one that fits passes
    given["container"]["environment"] = variables(1000)
    validation.validate({"spec": given})
