"""Every step's Lambda handler, invoked the way its state machine invokes it: with its own sample
event (events/functions/<step>.json), against a moto account holding what the earlier steps
created. The ids in the sample events are swapped for the real ones (see handler_fixtures)."""

from __future__ import annotations

import copy
import json
import os
import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from fargate_env import bounds, clock, gateway_registry, inventory, naming
from fargate_env import spec as spec_model
from fargate_env.errors import (
    AwsRequestFailed,
    AwsThrottled,
    EndpointCheckFailed,
    FargateEnvError,
    ResourceConflict,
    TransientAwsError,
)
from tests.support import EVENTS, FUNCTIONS, REPO_ROOT, load_handler, step_names
from tests.unit.handler_fixtures import (
    ENV,
    ENV_TAG,
    SAMPLE_INVENTORY,
    SAMPLE_LB,
    SAMPLE_RESOURCES,
    Prerequisite,
    World,
    a_healthy_target,
    a_web_server_at_the_url,
    an_expiry_schedule,
    boto,
    cluster_named,
    default_vpc,
    ecs_tags,
    elbv2_tags,
    key_values,
    load_balancer_named,
    log_group_named,
    log_group_tags,
    registry_item,
    role_named,
    sample,
    schedule_named,
    security_group,
    security_groups_named,
    security_groups_tagged,
    service_status,
    serving,
    target_group_named,
    task_definition_revisions,
    tasks_keep_running,
    the_load_balancer_address_is_local,
    with_time_to_live,
)

CLUSTER = f"fenv-{ENV}"
SERVICE = f"fenv-{ENV}"
FAMILY = f"fenv-{ENV}"
LB_NAME = f"fenv-{ENV}-web"
LB_GROUP = f"fenv-{ENV}-web-lb"
TASKS_GROUP = f"fenv-{ENV}-tasks"
LOG_GROUP = f"/fargate-env/{ENV}"
SCHEDULE = f"fenv-{ENV}-expiry"
EXECUTION_ROLE = f"fenv-{ENV}-exec-us-east-1"
EXECUTION_ROLE_PATH = "/fargate-env/fargate-env/"


def a_teardown_machine(world: World) -> None:
    """The deployment's teardown machine (the template's), which the reaper starts."""
    arn = world.real(SAMPLE_TEARDOWN_MACHINE)
    role = boto("iam").create_role(RoleName="teardown-machine", AssumeRolePolicyDocument="{}")
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
    boto("stepfunctions").create_state_machine(
        name=arn.split(":")[-1], definition=json.dumps(definition), roleArn=role["Role"]["Arn"]
    )


SAMPLE_TEARDOWN_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:fargate-env-teardown"


def a_task_of_the_revision_serving(world: World) -> None:
    """A task of revision 1 in the environment's subnets, its address the target group's one
    healthy target (what ECS does for the service's tasks)."""
    ecs = boto("ecs")
    network = {
        "subnets": [
            boto("ec2").describe_subnets(Filters=[{"Name": "vpc-id", "Values": [default_vpc()]}])[
                "Subnets"
            ][0]["SubnetId"]
        ],
        "securityGroups": [world.real(SAMPLE_RESOURCES["security_groups"]["tasks"])],
    }
    [task] = ecs.run_task(
        cluster=CLUSTER,
        taskDefinition=f"{FAMILY}:1",
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": network},
    )["tasks"]
    details = {d["name"]: d["value"] for a in task["attachments"] for d in a["details"]}
    boto("elbv2").register_targets(
        TargetGroupArn=world.real(SAMPLE_LB["target_group_arn"]),
        Targets=[{"Id": details["privateIPv4Address"], "Port": 80}],
    )


def before_the_deadline(world: World) -> None:
    """The clock at the sample's run of the pre-traffic task, so its deadline is ahead."""
    world.monkeypatch.setattr(clock, "now", lambda: 1_767_225_600.0)


# What each step needs in the account before it runs: the steps the state machines run first.
NETWORK: tuple[Prerequisite, ...] = ("resolve_network",)
LOAD_BALANCER: tuple[Prerequisite, ...] = (
    *NETWORK,
    "create_security_groups",
    "create_target_group",
    "create_load_balancer",
    "create_listeners",
)
PROVISIONED: tuple[Prerequisite, ...] = (
    *LOAD_BALANCER,
    "create_log_group",
    "create_execution_role",
    "register_task_definition",
    "create_cluster",
    "create_service",
)
READY: tuple[Prerequisite, ...] = ("claim_environment", "record_environment_ready")
SERVICE_AND_LOAD_BALANCERS_GONE: tuple[Prerequisite, ...] = (
    *PROVISIONED,
    "delete_service",
    "delete_load_balancers",
)


def one_gateway_kept_warm(world: World) -> None:
    """The deployment keeps one gateway warm (GatewayWarmCount 1)."""
    world.monkeypatch.setenv("GATEWAY_WARM_COUNT", "1")


def gateways_idle(world: World) -> None:
    """None kept warm any more, empty ones removed at once: the plan marks e1 DRAINING."""
    world.monkeypatch.setenv("GATEWAY_WARM_COUNT", "0")
    world.monkeypatch.setenv("GATEWAY_IDLE_MINUTES", "0")
    world.run("plan_gateways")


GIVEN: dict[str, tuple[Prerequisite, ...]] = {
    "validate_spec": (),
    "claim_environment": (),
    "resolve_network": (),
    "create_security_groups": NETWORK,
    "create_target_group": NETWORK,
    "create_load_balancer": (*NETWORK, "create_security_groups"),
    "create_listeners": LOAD_BALANCER[:-1],
    "create_log_group": (),
    "create_execution_role": (),
    "register_task_definition": ("create_log_group", "create_execution_role"),
    "run_pre_traffic_task": PROVISIONED[:-1],
    "check_pre_traffic_task": (before_the_deadline, *PROVISIONED[:-1], "run_pre_traffic_task"),
    "create_cluster": (),
    "create_service": PROVISIONED[:-1],
    "wait_load_balancers_active": (*NETWORK, "create_security_groups", "create_load_balancer"),
    "wait_service_stable": (tasks_keep_running, *PROVISIONED, a_healthy_target),
    "verify_endpoint": (
        tasks_keep_running,
        *PROVISIONED,
        a_healthy_target,
        a_web_server_at_the_url,
    ),
    "probe_endpoint": (a_web_server_at_the_url, the_load_balancer_address_is_local),
    "record_environment_ready": ("claim_environment",),
    "record_provisioning_failure": ("claim_environment",),
    "begin_teardown": READY,
    "find_environment_resources": PROVISIONED,
    "delete_service": PROVISIONED,
    "wait_service_deleted": (*PROVISIONED, "delete_service"),
    "delete_load_balancers": PROVISIONED,
    "wait_load_balancers_deleted": (*PROVISIONED, "delete_load_balancers"),
    "delete_target_groups": SERVICE_AND_LOAD_BALANCERS_GONE,
    "delete_task_definitions": SERVICE_AND_LOAD_BALANCERS_GONE,
    "delete_cluster": SERVICE_AND_LOAD_BALANCERS_GONE,
    "delete_log_group": SERVICE_AND_LOAD_BALANCERS_GONE,
    "delete_expiry_schedule": ("claim_environment", an_expiry_schedule),
    "delete_security_groups": SERVICE_AND_LOAD_BALANCERS_GONE,
    "delete_execution_role": SERVICE_AND_LOAD_BALANCERS_GONE,
    "record_environment_deleted": (*READY, "begin_teardown"),
    "begin_update": READY,
    "roll_out_update": (tasks_keep_running, *PROVISIONED),
    "check_rollout": (tasks_keep_running, *PROVISIONED, a_healthy_target),
    "verify_update": (*PROVISIONED, a_task_of_the_revision_serving, a_web_server_at_the_url),
    "record_environment_updated": (*READY, "register_task_definition", "begin_update"),
    "record_update_failure": (tasks_keep_running, *PROVISIONED, *READY, "begin_update"),
    # Resources tagged as this deployment's, no registry item: an orphan
    "find_leftovers": PROVISIONED,
    "reap_leftovers": (a_teardown_machine,),
    "plan_gateways": (one_gateway_kept_warm,),
    "make_gateway": (one_gateway_kept_warm, "plan_gateways"),
    "remove_gateway": (one_gateway_kept_warm, "plan_gateways", "make_gateway", gateways_idle),
}


@pytest.fixture
def world(deployment, lambda_context, monkeypatch) -> Iterator[World]:
    for proxy in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(proxy, raising=False)  # verify_endpoint must reach 127.0.0.1 itself
    built = World(lambda_context, monkeypatch)
    with built.cleanup:
        yield built


def template_steps() -> dict[str, str]:
    """Logical id -> step directory of every AWS::Serverless::Function in template.yaml."""
    from samtranslator.yaml_helper import yaml_parse

    template = yaml_parse((REPO_ROOT / "template.yaml").read_text())
    return {
        logical_id: Path(resource["Properties"]["CodeUri"]).name
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def state_machine_payloads() -> dict[str, dict[str, Any]]:
    """Logical id of the function -> the Payload its Task state sends, from both machines."""
    payloads: dict[str, dict[str, Any]] = {}

    def walk(states: dict[str, Any]) -> None:
        for state in states.values():
            function = state.get("Arguments", {}).get("FunctionName", "")
            if match := re.fullmatch(r"\$\{(\w+)Arn\}", function):
                payload = state["Arguments"]["Payload"]
                # The update reuses two provisioning steps: with the same fields.
                seen = payloads.setdefault(match[1], payload)
                assert fields(seen, seen) == fields(payload, payload), match[1]
            for branch in state.get("Branches", []):
                walk(branch["States"])
            if "ItemProcessor" in state:
                walk(state["ItemProcessor"]["States"])

    for machine in sorted((REPO_ROOT / "statemachine").glob("*.asl.json")):
        walk(json.loads(machine.read_text())["States"])
    return payloads


def fields(value: Any, like: Any) -> Any:
    """The field names of `value`, nested wherever `like` (an ASL Payload) has a literal object."""
    if isinstance(value, dict) and isinstance(like, dict):
        return {key: fields(item, like.get(key)) for key, item in value.items()}
    return None


# ---------------------------------------------------------------- a. contract


def test_every_template_function_has_a_handler_and_a_sample_event_and_vice_versa():
    # Given the functions the template deploys
    steps = template_steps()

    # Then each has its handler and its sample event, and no step directory is left out
    for logical_id, step in steps.items():
        assert (FUNCTIONS / step / "app.py").is_file(), logical_id
        assert callable(load_handler(step)), step
        assert (EVENTS / "functions" / f"{step}.json").is_file(), step
    assert sorted(steps.values()) == step_names()
    assert len(set(steps.values())) == len(steps)


def test_every_sample_event_has_exactly_the_fields_its_state_machine_sends():
    # Given each function's Task Payload in the two state machines
    payloads = state_machine_payloads()
    steps = template_steps()
    invoked_by_steps = {"EndpointProbeFunction"}  # the verify step invokes the probe
    assert sorted(payloads) == sorted(set(steps) - invoked_by_steps), (
        "every step function is invoked by a Task"
    )

    # Then its sample event has the same fields, and every spec is the normalised default spec
    normalised = spec_model.normalise(spec_model.parse({"name": ENV}))
    for logical_id, payload in payloads.items():
        event = sample(steps[logical_id])
        assert fields(event, payload) == fields(payload, payload), steps[logical_id]
        if "spec" in event:
            assert event["spec"] == normalised, steps[logical_id]


# ---------------------------------------------------------------- b. every step, its own event

THEN: dict[str, Callable[[Any, World], None]] = {}


def then(step: str) -> Callable[[Callable[[Any, World], None]], Callable[[Any, World], None]]:
    def register(check: Callable[[Any, World], None]) -> Callable[[Any, World], None]:
        THEN[step] = check
        return check

    return register


@then("validate_spec")
def _(result, world):
    # the request's time: it has none of its own, so its execution's start
    assert result == {
        "spec": sample("claim_environment")["spec"],
        "requested_at": "2026-01-01T00:00:00.000000Z",
    }


@then("claim_environment")
def _(result, world):
    assert result == {"outcome": "claimed", "status": "CREATING", "message": ""}
    item = registry_item()
    assert item["status"] == "CREATING"
    assert item["provision_execution"] == sample("claim_environment")["execution_id"]
    assert item["create_requested_at"] == sample("claim_environment")["requested_at"]


@then("resolve_network")
def _(result, world):
    vpc = default_vpc()
    assert result["vpc_id"] == vpc
    subnets = boto("ec2").describe_subnets(SubnetIds=result["subnet_ids"])["Subnets"]
    assert {subnet["VpcId"] for subnet in subnets} == {vpc}
    assert len({subnet["AvailabilityZone"] for subnet in subnets}) >= 2
    assert result["load_balancer_subnet_ids"] == result["subnet_ids"]


@then("create_security_groups")
def _(result, world):
    lb_group, tasks_group = (
        security_group(result["load_balancers"]["web"]),
        security_group(result["tasks"]),
    )
    assert (lb_group["GroupName"], tasks_group["GroupName"]) == (LB_GROUP, TASKS_GROUP)
    assert key_values(lb_group["Tags"])[ENV_TAG] == ENV
    assert key_values(tasks_group["Tags"])[ENV_TAG] == ENV
    [public] = lb_group["IpPermissions"]
    assert (public["FromPort"], public["IpRanges"][0]["CidrIp"]) == (80, "0.0.0.0/0")
    [from_lb] = tasks_group["IpPermissions"]
    assert from_lb["FromPort"] == 80
    assert [pair["GroupId"] for pair in from_lb["UserIdGroupPairs"]] == [lb_group["GroupId"]]
    assert not from_lb["IpRanges"]


@then("create_target_group")
def _(result, world):
    group = target_group_named(LB_NAME)
    assert result == {"id": "web", "arn": group["TargetGroupArn"], "name": LB_NAME}
    assert (group["TargetType"], group["Port"], group["VpcId"]) == ("ip", 80, default_vpc())
    assert elbv2_tags(group["TargetGroupArn"])[ENV_TAG] == ENV


@then("create_load_balancer")
def _(result, world):
    lb = load_balancer_named(LB_NAME)
    assert result == {
        "id": "web",
        "arn": lb["LoadBalancerArn"],
        "name": LB_NAME,
        "dns_name": lb["DNSName"],
        "type": "application",
    }
    assert lb["SecurityGroups"] == [world.real(sample("create_load_balancer")["security_group_id"])]
    assert elbv2_tags(lb["LoadBalancerArn"])[ENV_TAG] == ENV


@then("create_listeners")
def _(result, world):
    lb = load_balancer_named(LB_NAME)
    [listener] = boto("elbv2").describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])[
        "Listeners"
    ]
    assert result == {
        "id": "web",
        "listener_arns": [listener["ListenerArn"]],
        "url": f"http://{lb['DNSName']}/",
    }
    assert (listener["Port"], listener["Protocol"]) == (80, "HTTP")
    [action] = listener["DefaultActions"]
    assert action["TargetGroupArn"] == target_group_named(LB_NAME)["TargetGroupArn"]


@then("create_log_group")
def _(result, world):
    assert result == {"name": LOG_GROUP}
    assert log_group_named(LOG_GROUP)["retentionInDays"] == 7
    assert log_group_tags(LOG_GROUP)[ENV_TAG] == ENV


@then("create_execution_role")
def _(result, world):
    role = role_named(EXECUTION_ROLE)
    assert result == {"name": EXECUTION_ROLE, "arn": role["Arn"]}
    assert role["Path"] == EXECUTION_ROLE_PATH
    boundary = role["PermissionsBoundary"]["PermissionsBoundaryArn"]
    assert boundary == os.environ["EXECUTION_ROLE_BOUNDARY_ARN"]
    assert key_values(role["Tags"])[ENV_TAG] == ENV
    [trusted] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trusted["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    # the default spec has no secret and no ECR image: its own log group only
    [policy] = role["Policies"].values()
    assert [(s["Action"], s["Resource"]) for s in policy["Statement"]] == [
        (
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            f"arn:aws:logs:us-east-1:123456789012:log-group:{LOG_GROUP}:*",
        )
    ]


@then("register_task_definition")
def _(result, world):
    described = boto("ecs").describe_task_definition(taskDefinition=result["arn"], include=["TAGS"])
    definition = described["taskDefinition"]
    assert (definition["family"], definition["revision"], definition["status"]) == (
        FAMILY,
        result["revision"],
        "ACTIVE",
    )
    [container] = definition["containerDefinitions"]
    assert container["logConfiguration"]["options"]["awslogs-group"] == LOG_GROUP
    assert definition["executionRoleArn"] == role_named(EXECUTION_ROLE)["Arn"]
    assert "taskRoleArn" not in definition  # no role, no ECS Exec: no AWS permissions
    assert key_values(described["tags"])[ENV_TAG] == ENV


@then("run_pre_traffic_task")
def _(result, world):
    cluster_arn = cluster_named(CLUSTER)["clusterArn"]
    [task] = boto("ecs").describe_tasks(
        cluster=cluster_arn, tasks=[result["task_arn"]], include=["TAGS"]
    )["tasks"]
    event = sample("run_pre_traffic_task")
    assert task["taskDefinitionArn"] == world.real(SAMPLE_RESOURCES["task_definition"]["arn"])
    assert task["overrides"]["containerOverrides"] == [{"name": "app", "command": event["command"]}]
    assert task["startedBy"].startswith("fenv-once-")
    assert key_values(task["tags"])[ENV_TAG] == ENV
    assert result["log_stream"] == f"{ENV}/app/{result['task_arn'].rsplit('/', 1)[-1]}"
    assert (result["interval_seconds"], result["max_polls"]) == (10, 91)


@then("create_cluster")
def _(result, world):
    cluster = cluster_named(CLUSTER)
    assert result == {"arn": cluster["clusterArn"], "name": CLUSTER}
    assert key_values(cluster["tags"])[ENV_TAG] == ENV


@then("create_service")
def _(result, world):
    cluster_arn = cluster_named(CLUSTER)["clusterArn"]
    [service] = boto("ecs").describe_services(
        cluster=cluster_arn, services=[SERVICE], include=["TAGS"]
    )["services"]
    assert result == {"arn": service["serviceArn"], "name": SERVICE, "cluster_arn": cluster_arn}
    assert service["status"] == "ACTIVE"
    assert service["taskDefinition"] == world.real(SAMPLE_RESOURCES["task_definition"]["arn"])
    assert [lb["targetGroupArn"] for lb in service["loadBalancers"]] == [
        target_group_named(LB_NAME)["TargetGroupArn"]
    ]
    assert key_values(service["tags"])[ENV_TAG] == ENV


@then("wait_load_balancers_active")
def _(result, world):
    assert result == {"ready": True, "states": {LB_NAME: "active"}, "summary": f"{LB_NAME} active"}


@then("wait_service_stable")
def _(result, world):
    assert result == {
        "ready": True,
        "rollout_state": "COMPLETED",
        "running": 1,
        "desired": 1,
        "healthy_targets": {LB_NAME: 1},
        "stopped_tasks": 0,
        "summary": f"rollout COMPLETED, 1 deployment(s), 1 of 1 task(s) running, healthy "
        f"targets: 1 in {LB_NAME}",
    }


@then("verify_endpoint")
def _(result, world):
    url = world.real(SAMPLE_LB["url"])
    assert url.startswith("http://127.0.0.1:")
    [check] = result["checks"]
    assert (check["id"], check["url"], check["check"]) == ("web", url, "http")
    assert (check["status"], check["healthy_targets"], check["attempts"]) == (200, 1, 1)
    assert result["url"] == url


@then("probe_endpoint")
def _(result, world):
    # The load balancer's private address answered the probe's GET
    assert (result["status"], result["detail"]) == (200, "ok")


@then("record_environment_ready")
def _(result, world):
    assert result == {"recorded": True, "schedule": None, "expires_at": None}
    item = registry_item()
    assert item["status"] == "READY"
    assert item["url"] == SAMPLE_LB["url"]
    assert item["resources"] == SAMPLE_RESOURCES


@then("record_provisioning_failure")
def _(result, world):
    failure = sample("record_provisioning_failure")["failure"]
    assert result["recorded"] is True
    assert result["error"] == "ServiceUnstable"
    cause = json.loads(result["cause"])
    assert list(cause) == ["environment", "failed_step", "error", "message", "resources", "next"]
    assert cause["failed_step"] == failure["failed_step"]
    assert cause["message"] == failure["message"]
    # the rollback's result, in words
    assert cause["resources"].startswith("rolled back: 9 deleted (service, load balancers")
    item = registry_item()
    assert (item["status"], item["retained"], item["resources"]) == ("FAILED", False, {})


@then("begin_update")
def _(result, world):
    assert (result["outcome"], result["status"], result["message"]) == ("claimed", "UPDATING", "")
    assert result["spec"] == sample("claim_environment")["spec"]
    assert result["requested_at"] == "2026-01-01T01:00:00.000000Z"
    assert result["previous_task_definition_arn"] == SAMPLE_RESOURCES["task_definition"]["arn"]
    assert result["max_polls"] == 120
    item = registry_item()
    assert item["status"] == "UPDATING"
    assert item["update_execution"] == sample("begin_update")["execution_id"]


@then("roll_out_update")
def _(result, world):
    service = boto("ecs").describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert service["taskDefinition"] == world.real(SAMPLE_RESOURCES["task_definition"]["arn"])
    assert result == {"task_definition_arn": service["taskDefinition"], "service_name": SERVICE}


@then("check_rollout")
def _(result, world):
    assert (result["ready"], result["rollout_state"], result["running"]) == (True, "COMPLETED", 1)


@then("verify_update")
def _(result, world):
    assert result["revision"] == f"{FAMILY}:1"
    assert result["targets"] == 1
    assert [check["status"] for check in result["checks"]] == [200]


@then("record_environment_updated")
def _(result, world):
    item = registry_item()
    assert item["status"] == "READY"
    assert result["revision"] == item["revisions"][-1]
    assert result["revision"]["task_definition"] == f"{FAMILY}:1"
    assert result["cleaned_revisions"] == []


@then("record_update_failure")
def _(result, world):
    failure = sample("record_update_failure")["failure"]
    assert result["error"] == "DeploymentRolledBack"
    assert json.loads(result["cause"]) == failure
    item = registry_item()
    assert (item["status"], item["update_failure"]) == ("READY", failure)


@then("begin_teardown")
def _(result, world):
    assert result == {
        "name": ENV,
        "reason": "requested",
        "requested_at": "2026-01-01T00:01:00.000000Z",
        "outcome": "claimed",
        "status": "DELETING",
        "message": "",
        "resources": SAMPLE_RESOURCES,
        # the recorded mode: its teardown leaves the gateways alone
        "mode": "dedicated",
        # the recorded spec drains in seconds: the default bound, 15 minutes of 5 s looks
        "interval_seconds": 5,
        "max_polls": 180,
    }
    item = registry_item()
    assert item["status"] == "DELETING"
    assert item["teardown_execution"] == sample("begin_teardown")["execution_id"]


@then("find_environment_resources")
def _(result, world):
    # exactly the sample inventory, with the real ids
    assert result == world.real(SAMPLE_INVENTORY)
    assert result["count"] == 9


@then("delete_service")
def _(result, world):
    cluster_arn = cluster_named(CLUSTER)["clusterArn"]
    assert result == {"deleted": [world.real(SAMPLE_INVENTORY["service"])], "stopped_tasks": []}
    assert service_status(cluster_arn, SERVICE) in ("INACTIVE", "MISSING")


@then("wait_service_deleted")
def _(result, world):
    assert result["ready"] is True
    assert result["tasks_remaining"] == 0
    assert result["status"] in ("INACTIVE", "MISSING")


@then("delete_load_balancers")
def _(result, world):
    assert result == {
        "deleted": world.real(SAMPLE_INVENTORY["load_balancers"]),
        "deleted_listeners": world.real(SAMPLE_LB["listener_arns"]),
    }
    assert load_balancer_named(LB_NAME) is None


@then("wait_load_balancers_deleted")
def _(result, world):
    assert result == {"ready": True, "remaining": [], "summary": ""}


@then("delete_target_groups")
def _(result, world):
    assert result == {"deleted": world.real(SAMPLE_INVENTORY["target_groups"])}
    assert target_group_named(LB_NAME) is None


@then("delete_task_definitions")
def _(result, world):
    revision = world.real(SAMPLE_INVENTORY["task_definitions"])
    assert result == {"deregistered": revision, "deleted": revision}
    assert task_definition_revisions(FAMILY) == {"ACTIVE": [], "INACTIVE": []}


@then("delete_cluster")
def _(result, world):
    assert result == {"deleted": [world.real(SAMPLE_INVENTORY["cluster"])]}
    assert cluster_named(CLUSTER) is None


@then("delete_log_group")
def _(result, world):
    assert result == {"deleted": [LOG_GROUP]}
    assert log_group_named(LOG_GROUP) is None


@then("delete_expiry_schedule")
def _(result, world):
    assert result == {"deleted": [SCHEDULE]}
    assert schedule_named(SCHEDULE) is None


@then("delete_security_groups")
def _(result, world):
    assert result == {"deleted": sorted(world.real(SAMPLE_INVENTORY["security_groups"]))}
    assert security_groups_tagged(ENV) == []


@then("check_pre_traffic_task")
def _(result, world):
    # still running (moto moves it along its own states), before its deadline: look again
    assert (result["stopped"], result["exit_code"], result["log_tail"]) == (False, None, [])
    assert result["status"] != "STOPPED"


@then("delete_execution_role")
def _(result, world):
    arn = f"arn:aws:iam::123456789012:role{EXECUTION_ROLE_PATH}{EXECUTION_ROLE}"
    assert result == {"deleted": [arn]}
    assert role_named(EXECUTION_ROLE) is None


@then("record_environment_deleted")
def _(result, world):
    assert result == {"recorded": True}
    item = registry_item()
    assert (item["status"], item["resources"]) == ("DELETED", {})
    assert item["summary"] == sample("record_environment_deleted")["summary"]


@then("find_leftovers")
def _(result, world):
    # the environment's resources, tagged as this deployment's, and no registry item
    assert result["dry_run"] is False
    assert [(f["name"], f["kind"], f["action"]) for f in result["findings"]] == [
        (ENV, "orphan", "teardown")
    ]
    assert result["findings"][0]["resources"] >= 5  # cluster, groups, log group, ...
    assert registry_item() is None  # nothing changed


@then("reap_leftovers")
def _(result, world):
    [started] = result["started"]
    assert (started["name"], started["kind"]) == (ENV, "orphan")
    described = boto("stepfunctions").describe_execution(executionArn=started["execution"])
    assert json.loads(described["input"]) == {
        "name": ENV,
        "reason": "reconciled",
        "requested_at": sample("reap_leftovers")["plan"]["observed_at"],
    }
    assert result["found"]["orphan"][0]["name"] == ENV


@then("plan_gateways")
def _(result, world):
    assert result == {"create": ["e1"], "remove": []}
    assert gateway_registry.get("e1")["status"] == gateway_registry.CREATING


@then("make_gateway")
def _(result, world):
    lb = load_balancer_named(naming.gateway_name("e1"))
    assert result == {"gateway_id": "e1", "made": True, "dns_name": lb["DNSName"]}
    assert elbv2_tags(lb["LoadBalancerArn"])[naming.GATEWAY_TAG] == "e1"
    assert gateway_registry.get("e1")["status"] == gateway_registry.READY


@then("remove_gateway")
def _(result, world):
    assert result["gateway_id"] == "e1"
    assert any(":loadbalancer/app/" in item for item in result["deleted"])
    assert any(item.startswith("sg-") for item in result["deleted"])
    assert load_balancer_named(naming.gateway_name("e1")) is None
    assert gateway_registry.get("e1") is None


@pytest.mark.parametrize("step", step_names())
def test_each_step_handles_its_own_sample_event(step, world):
    # Given what the state machine has built before this step
    world.given(*GIVEN[step])

    # When the step runs with its sample event (pointing at the real ids)
    result = world.run(step)

    # Then it did its job
    THEN[step](result, world)


def test_verify_endpoint_fails_when_nothing_answers(world, monkeypatch):
    # Given healthy targets but a URL where nothing listens, and pauses that do not wait
    world.given(*GIVEN["verify_endpoint"][:-1])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/"
    world.use(SAMPLE_LB["url"], closed)
    pauses: list[float] = []
    elapsed = [0.0]

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        elapsed[0] += seconds

    monkeypatch.setattr(clock, "sleep", sleep)
    monkeypatch.setattr(clock, "monotonic", lambda: elapsed[0])

    # When the endpoint is verified / Then it fails, naming the URL and the last answer, after
    # as many attempts as the function's time allows (30 s less the margin, 5 s apart)
    with pytest.raises(EndpointCheckFailed, match=re.escape(closed) + ".* attempts\\): URLError"):
        world.run("verify_endpoint")
    assert pauses
    assert sum(pauses) <= 30


def test_verify_endpoint_fails_on_a_server_error(world, monkeypatch):
    # Given healthy targets, and a URL that answers 503
    world.given(*GIVEN["verify_endpoint"][:-1])
    world.use(SAMPLE_LB["url"], world.cleanup.enter_context(serving(503)))
    monkeypatch.setattr(clock, "sleep", lambda seconds: None)

    # When / Then
    with pytest.raises(EndpointCheckFailed, match="HTTP 503"):
        world.run("verify_endpoint")


# ---------------------------------------------------------------- c. create steps are idempotent


@dataclass(frozen=True)
class Idempotent:
    given: tuple[Prerequisite, ...]
    found: Callable[[], list[str]]  # the names of every such resource in the account
    expected: list[str]  # exactly one of each
    tags: Callable[[Any], list[dict[str, str]]] | None  # tags of what the result names
    same: Callable[[Any], Any] = lambda result: result  # what both invocations must agree on
    event: Callable[[dict[str, Any]], dict[str, Any]] = lambda event: event


def _names(arns: list[str]) -> list[str]:
    return [arn.split("/")[-1] for arn in arns]


def _tasks_in_the_cluster() -> list[dict[str, Any]]:
    arns = boto("ecs").list_tasks(cluster=CLUSTER)["taskArns"]
    return boto("ecs").describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"] if arns else []


IDEMPOTENT: dict[str, Idempotent] = {
    "create_security_groups": Idempotent(
        NETWORK,
        found=lambda: sorted(g["GroupName"] for g in security_groups_named(LB_GROUP, TASKS_GROUP)),
        expected=[TASKS_GROUP, LB_GROUP],
        tags=lambda result: [
            key_values(security_group(group_id)["Tags"])
            for group_id in [*result["load_balancers"].values(), result["tasks"]]
        ],
    ),
    "create_log_group": Idempotent(
        (),
        found=lambda: [
            group["logGroupName"]
            for group in boto("logs").describe_log_groups(logGroupNamePrefix="/fargate-env/")[
                "logGroups"
            ]
        ],
        expected=[LOG_GROUP],
        tags=lambda result: [log_group_tags(result["name"])],
    ),
    "register_task_definition": Idempotent(
        ("create_log_group",),
        found=lambda: _names(
            [arn for arns in task_definition_revisions(FAMILY).values() for arn in arns]
        ),
        expected=[f"{FAMILY}:1"],
        tags=lambda result: [ecs_tags(result["arn"])],
    ),
    "create_target_group": Idempotent(
        NETWORK,
        found=lambda: [
            group["TargetGroupName"]
            for group in boto("elbv2").describe_target_groups()["TargetGroups"]
        ],
        expected=[LB_NAME],
        tags=lambda result: [elbv2_tags(result["arn"])],
    ),
    "create_load_balancer": Idempotent(
        (*NETWORK, "create_security_groups"),
        found=lambda: [
            lb["LoadBalancerName"]
            for lb in boto("elbv2").describe_load_balancers()["LoadBalancers"]
        ],
        expected=[LB_NAME],
        tags=lambda result: [elbv2_tags(result["arn"])],
    ),
    "create_listeners": Idempotent(
        LOAD_BALANCER[:-1],
        found=lambda: [
            f"{listener['Protocol']}:{listener['Port']}"
            for listener in boto("elbv2").describe_listeners(
                LoadBalancerArn=load_balancer_named(LB_NAME)["LoadBalancerArn"]
            )["Listeners"]
        ],
        expected=["HTTP:80"],
        tags=lambda result: [elbv2_tags(arn) for arn in result["listener_arns"]],
    ),
    "create_execution_role": Idempotent(
        (),
        found=lambda: [
            role["RoleName"]
            for role in boto("iam").list_roles(PathPrefix=EXECUTION_ROLE_PATH)["Roles"]
        ],
        expected=[EXECUTION_ROLE],
        tags=lambda result: [key_values(role_named(result["name"])["Tags"])],
    ),
    "run_pre_traffic_task": Idempotent(
        PROVISIONED[:-1],
        found=lambda: [task["startedBy"][:10] for task in _tasks_in_the_cluster()],
        expected=["fenv-once-"],
        tags=lambda result: [ecs_tags(result["task_arn"])],
    ),
    "create_cluster": Idempotent(
        (),
        found=lambda: _names(boto("ecs").list_clusters()["clusterArns"]),
        expected=[CLUSTER],
        tags=lambda result: [key_values(cluster_named(result["name"])["tags"])],
    ),
    "create_service": Idempotent(
        PROVISIONED[:-1],
        found=lambda: _names(boto("ecs").list_services(cluster=CLUSTER)["serviceArns"]),
        expected=[SERVICE],
        tags=lambda result: [ecs_tags(result["arn"])],
    ),
    "claim_environment": Idempotent(
        (),
        found=lambda: [
            item["name"]["S"]
            for item in boto("dynamodb").scan(TableName="fargate-env-registry")["Items"]
        ],
        expected=[ENV],
        tags=None,  # a registry item: DynamoDB tags tables, not items
    ),
    "record_environment_ready": Idempotent(
        ("claim_environment",),
        found=lambda: [s["Name"] for s in boto("scheduler").list_schedules()["Schedules"]],
        expected=[SCHEDULE],
        tags=None,  # EventBridge Scheduler tags schedule groups, not schedules
        same=lambda result: (result["schedule"], result["expires_at"]),
        event=with_time_to_live,
    ),
}


@pytest.mark.parametrize("step", sorted(IDEMPOTENT))
def test_create_step_invoked_twice_creates_one_resource(step, world, monkeypatch):
    # Given the step's prerequisites, and a clock that does not move between the invocations
    case = IDEMPOTENT[step]
    world.given(*case.given)
    monkeypatch.setattr(clock, "now", lambda: 1_767_225_600.0)
    event = case.event(world.event(step))

    # When the state machine retries the step with the same input
    first = world.run(step, copy.deepcopy(event))
    second = world.run(step, copy.deepcopy(event))

    # Then one resource exists, both invocations name it, and it is tagged as the environment's
    assert case.found() == case.expected
    assert case.same(second) == case.same(first)
    for tags in case.tags(first) if case.tags else []:
        assert tags[ENV_TAG] == ENV


def test_claim_twice_keeps_the_environment_creating_for_that_execution(world):
    # Given a claim
    world.run("claim_environment")

    # When the same execution claims again
    world.run("claim_environment")

    # Then the registry item is still owned by that execution
    item = registry_item()
    assert (item["status"], item["provision_execution"]) == (
        "CREATING",
        sample("claim_environment")["execution_id"],
    )


def test_record_ready_twice_keeps_one_schedule_and_the_environment_ready(world, monkeypatch):
    # Given a claimed environment with a time to live
    world.given("claim_environment")
    monkeypatch.setattr(clock, "now", lambda: 1_767_225_600.0)
    event = with_time_to_live(world.event("record_environment_ready"))

    # When the step is retried
    world.run("record_environment_ready", copy.deepcopy(event))
    second = world.run("record_environment_ready", copy.deepcopy(event))

    # Then the schedule starts the teardown once, at the expiry, and the item is READY
    schedule = schedule_named(SCHEDULE)
    assert schedule["ScheduleExpression"] == "at(2026-01-01T04:00:00)"
    assert json.loads(schedule["Target"]["Input"]) == {"name": ENV, "reason": "expired"}
    assert second["expires_at"] == "2026-01-01T04:00:00+00:00"
    assert registry_item()["status"] == "READY"
    assert registry_item()["expires_at"] == second["expires_at"]


# ---------------------------------------------------------------- d. delete steps

DELETE_STEPS = (
    "delete_service",
    "delete_load_balancers",
    "delete_target_groups",
    "delete_task_definitions",
    "delete_cluster",
    "delete_log_group",
    "delete_security_groups",
    "delete_expiry_schedule",
    "delete_execution_role",
)
EMPTY_INVENTORY = inventory.empty(ENV)  # what the lookups find for an unknown name


def _nothing_deleted(result: dict[str, Any]) -> None:
    assert all(value == [] for value in result.values()), result


@pytest.mark.parametrize("step", DELETE_STEPS)
def test_delete_step_succeeds_when_nothing_exists(step, deployment, lambda_context):
    # Given an account without the environment, and the inventory that finds nothing
    event = sample(step) | {"inventory": EMPTY_INVENTORY}

    # When the step runs / Then it succeeds, deleting nothing
    _nothing_deleted(load_handler(step)(event, lambda_context))


@pytest.mark.parametrize("step", DELETE_STEPS)
def test_delete_step_succeeds_when_the_recorded_ids_are_already_gone(
    step, deployment, lambda_context
):
    # Given an account where none of the sample event's recorded ids exist (a re-run teardown)
    event = sample(step)

    # When the step runs
    result = load_handler(step)(event, lambda_context)

    # Then it succeeds; recorded security groups that are gone count as deleted
    if step == "delete_security_groups":
        assert result == {"deleted": sorted(SAMPLE_INVENTORY["security_groups"])}
    else:
        _nothing_deleted(result)


def _an_inactive_and_an_active_revision(world: World) -> None:
    """Revision 1 deregistered (INACTIVE), revision 2 (another image) ACTIVE."""
    event = world.event("register_task_definition")
    event["spec"]["container"]["image"] = "nginx:1.27"
    second = world.run("register_task_definition", event)
    assert second["revision"] == 2
    boto("ecs").deregister_task_definition(taskDefinition=f"{FAMILY}:1")


DELETES: dict[str, tuple[tuple[Prerequisite, ...], Callable[[], bool]]] = {
    # step: (created first, "does it exist?")
    "delete_service": (
        PROVISIONED,
        lambda: service_status(CLUSTER, SERVICE) == "ACTIVE",
    ),
    "delete_load_balancers": (LOAD_BALANCER, lambda: load_balancer_named(LB_NAME) is not None),
    "delete_target_groups": (
        (*NETWORK, "create_target_group"),
        lambda: target_group_named(LB_NAME) is not None,
    ),
    "delete_task_definitions": (
        ("register_task_definition", _an_inactive_and_an_active_revision),
        lambda: task_definition_revisions(FAMILY) != {"ACTIVE": [], "INACTIVE": []},
    ),
    "delete_cluster": (("create_cluster",), lambda: cluster_named(CLUSTER) is not None),
    "delete_log_group": (("create_log_group",), lambda: log_group_named(LOG_GROUP) is not None),
    "delete_security_groups": (
        (*NETWORK, "create_security_groups"),
        lambda: bool(security_groups_named(LB_GROUP, TASKS_GROUP)),
    ),
    "delete_expiry_schedule": (
        ("claim_environment", an_expiry_schedule),
        lambda: schedule_named(SCHEDULE) is not None,
    ),
    "delete_execution_role": (
        ("create_execution_role",),
        lambda: role_named(EXECUTION_ROLE) is not None,
    ),
}


@pytest.mark.parametrize("step", DELETE_STEPS)
def test_delete_step_removes_what_the_create_steps_made(step, world):
    # Given the resource, created by the create steps
    created_first, exists = DELETES[step]
    world.given(*created_first)
    assert exists()

    # When the delete step runs with the inventory that lists it
    result = world.run(step)

    # Then it is gone, and the step says so
    assert not exists()
    assert result["deleted"]


def test_delete_task_definitions_deregisters_then_deletes_every_revision(world):
    # Given an ACTIVE and an INACTIVE revision
    world.given("register_task_definition", _an_inactive_and_an_active_revision)

    # When the task definitions are deleted
    result = world.run("delete_task_definitions")

    # Then the ACTIVE one was deregistered and both deleted: none is ACTIVE or INACTIVE
    arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/" + FAMILY
    assert result["deregistered"] == [f"{arn}:2"]
    assert sorted(result["deleted"]) == [f"{arn}:1", f"{arn}:2"]
    assert task_definition_revisions(FAMILY) == {"ACTIVE": [], "INACTIVE": []}


# ---------------------------------------------------------------- e. never adopt, never delete


@dataclass(frozen=True)
class Foreign:
    """A resource with our name but not our environment tag, made directly with boto3."""

    create_step: str
    delete_step: str
    given: tuple[Prerequisite, ...]
    make: Callable[[World], str]  # creates it; returns its id (recorded in the world)
    tags: Callable[[str], dict[str, str] | None]  # its tags, None once it is gone


def _foreign_cluster(world: World) -> str:
    return str(boto("ecs").create_cluster(clusterName=CLUSTER)["cluster"]["clusterArn"])


def _foreign_target_group(world: World) -> str:
    arn = boto("elbv2").create_target_group(
        Name=LB_NAME, Protocol="HTTP", Port=80, VpcId=default_vpc(), TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    world.use(SAMPLE_LB["target_group_arn"], arn)
    return str(arn)


def _foreign_load_balancer(world: World) -> str:
    subnets = world.real(SAMPLE_RESOURCES["network"]["load_balancer_subnet_ids"])
    arn = boto("elbv2").create_load_balancer(Name=LB_NAME, Subnets=subnets)["LoadBalancers"][0][
        "LoadBalancerArn"
    ]
    world.use(SAMPLE_LB["arn"], arn)
    return str(arn)


def _foreign_log_group(world: World) -> str:
    boto("logs").create_log_group(logGroupName=LOG_GROUP, tags={"team": "someone-else"})
    return LOG_GROUP


def _foreign_security_group(world: World) -> str:
    group_id = boto("ec2").create_security_group(
        GroupName=LB_GROUP, Description="not fargate-env's", VpcId=default_vpc()
    )["GroupId"]
    world.use(SAMPLE_RESOURCES["security_groups"]["load_balancers"]["web"], group_id)
    return str(group_id)


def _foreign_task_definition(world: World) -> str:
    return str(
        boto("ecs").register_task_definition(
            family=FAMILY,
            containerDefinitions=[{"name": "app", "image": "nginx:latest", "memory": 512}],
        )["taskDefinition"]["taskDefinitionArn"]
    )


def _foreign_execution_role(world: World) -> str:
    trust = {"Version": "2012-10-17", "Statement": []}
    boto("iam").create_role(
        RoleName=EXECUTION_ROLE,
        Path=EXECUTION_ROLE_PATH,
        AssumeRolePolicyDocument=json.dumps(trust),
        Tags=[{"Key": "team", "Value": "someone-else"}],
    )
    return EXECUTION_ROLE


def _execution_role_tags(name: str) -> dict[str, str] | None:
    role = role_named(name)
    return None if role is None else key_values(role.get("Tags"))


def _cluster_tags(arn: str) -> dict[str, str] | None:
    cluster = cluster_named(arn)
    return None if cluster is None else key_values(cluster.get("tags"))


def _target_group_tags(arn: str) -> dict[str, str] | None:
    return elbv2_tags(arn) if target_group_named(LB_NAME) else None


def _load_balancer_tags(arn: str) -> dict[str, str] | None:
    return elbv2_tags(arn) if load_balancer_named(LB_NAME) else None


def _log_group_tags(name: str) -> dict[str, str] | None:
    return log_group_tags(name) if log_group_named(name) else None


def _security_group_tags(group_id: str) -> dict[str, str] | None:
    group = security_group(group_id)
    return None if group is None else key_values(group.get("Tags"))


def _task_definition_tags(arn: str) -> dict[str, str] | None:
    revisions = task_definition_revisions(FAMILY)
    return ecs_tags(arn) if arn in revisions["ACTIVE"] else None


FOREIGN: dict[str, Foreign] = {
    "cluster": Foreign("create_cluster", "delete_cluster", (), _foreign_cluster, _cluster_tags),
    "target group": Foreign(
        "create_target_group",
        "delete_target_groups",
        NETWORK,
        _foreign_target_group,
        _target_group_tags,
    ),
    "load balancer": Foreign(
        "create_load_balancer",
        "delete_load_balancers",
        (*NETWORK, "create_security_groups"),
        _foreign_load_balancer,
        _load_balancer_tags,
    ),
    "log group": Foreign(
        "create_log_group", "delete_log_group", (), _foreign_log_group, _log_group_tags
    ),
    "security group": Foreign(
        "create_security_groups",
        "delete_security_groups",
        NETWORK,
        _foreign_security_group,
        _security_group_tags,
    ),
    "execution role": Foreign(
        "create_execution_role",
        "delete_execution_role",
        (),
        _foreign_execution_role,
        _execution_role_tags,
    ),
    "task definition family": Foreign(
        "register_task_definition",
        "delete_task_definitions",
        (),
        _foreign_task_definition,
        _task_definition_tags,
    ),
}


@pytest.mark.parametrize("kind", sorted(FOREIGN))
def test_create_step_refuses_a_same_name_resource_it_does_not_own(kind, world):
    # Given someone else's resource with the name the environment would use
    case = FOREIGN[kind]
    world.given(*case.given)
    foreign = case.make(world)
    before = case.tags(foreign)

    # When the create step runs / Then it refuses, naming the resource and the missing tags
    with pytest.raises(ResourceConflict, match=f"{kind} .* lacks the tags {ENV_TAG}={ENV}, "):
        world.run(case.create_step)

    # And the resource is neither adopted (tagged) nor deleted
    assert case.tags(foreign) == before
    assert ENV_TAG not in before


@pytest.mark.parametrize("kind", sorted(FOREIGN))
def test_delete_step_leaves_a_same_name_resource_it_does_not_own(kind, world):
    # Given someone else's resource with our name, even recorded by id in the resources
    case = FOREIGN[kind]
    world.given(*case.given)
    foreign = case.make(world)
    before = case.tags(foreign)

    # When the teardown takes its inventory and runs the delete step
    inventory = world.run("find_environment_resources")
    result = world.run(case.delete_step, world.event(case.delete_step) | {"inventory": inventory})

    # Then the resource is not in the inventory, not deleted and not reported deleted
    assert foreign not in json.dumps(inventory)
    assert case.tags(foreign) == before
    assert foreign not in result["deleted"]

    # And even an inventory naming it by id does not make the delete step delete it
    world.run(case.delete_step)
    assert case.tags(foreign) == before


OTHER_STACK = "fargate-env-staging"
OTHER_TEARDOWN = "arn:aws:states:us-east-1:123456789012:stateMachine:fargate-env-staging-teardown"
#: The create steps that find an existing resource of the environment's name: each must refuse
#: another deployment's (record_environment_ready: the expiry schedule).
CREATES_THAT_ADOPT = (
    "create_security_groups",
    "create_target_group",
    "create_load_balancer",
    "create_log_group",
    "create_execution_role",
    "register_task_definition",
    "create_cluster",
    "create_service",
    "record_environment_ready",
)


def _as_deployment(monkeypatch: pytest.MonkeyPatch, stack: str, teardown: str) -> None:
    monkeypatch.setenv("DEPLOYMENT_NAME", stack)
    monkeypatch.setenv("TEARDOWN_STATE_MACHINE_ARN", teardown)


def test_two_deployments_in_one_account_never_manage_the_same_environment(
    world, deployment, monkeypatch
):
    # Given environment "demo" provisioned, with an expiry, by another stack in this account
    our_teardown = deployment["TEARDOWN_STATE_MACHINE_ARN"]
    _as_deployment(monkeypatch, OTHER_STACK, OTHER_TEARDOWN)
    world.given(*PROVISIONED, "claim_environment", an_expiry_schedule)
    theirs = inventory.find(ENV, None)
    assert theirs["count"] == 10
    assert ecs_tags(theirs["cluster"])["fargate-env:managed-by"] == OTHER_STACK
    _as_deployment(monkeypatch, "fargate-env", our_teardown)

    # When this deployment looks for "demo" / Then it finds nothing of its own
    assert world.run("find_environment_resources")["count"] == 0

    # And every create step refuses the other stack's resource instead of adopting it
    for step in CREATES_THAT_ADOPT:
        event = world.event(step)
        if step == "record_environment_ready":
            event = with_time_to_live(event)
        with pytest.raises(ResourceConflict, match=OTHER_STACK + "|another stack"):
            world.run(step, event)

    # And every delete step, even given the other stack's ids, deletes nothing
    for step in DELETE_STEPS:
        _nothing_deleted(world.run(step))
    _as_deployment(monkeypatch, OTHER_STACK, OTHER_TEARDOWN)
    assert inventory.find(ENV, None) == theirs


# ---------------------------------------------------------------- f. error contract

AWS_STEPS = [step for step in step_names() if step not in ("validate_spec", "probe_endpoint")]


def _refusing_every_call(code: str, operations: list[str]) -> Any:
    """Patch: AWS answers every call with `code` (recording the operations asked for)."""

    def refuse(client: BaseClient, operation: str, params: dict[str, Any]) -> None:
        operations.append(operation)
        status = 503 if code == "ServiceUnavailable" else 400
        raise ClientError(
            {
                "Error": {"Code": code, "Message": "refused by the test"},
                "ResponseMetadata": {"HTTPStatusCode": status},
            },
            operation,
        )

    return mock.patch.object(BaseClient, "_make_api_call", autospec=True, side_effect=refuse)


WRAPPED_BY_CODE = {
    "ThrottlingException": AwsThrottled,
    "ServiceUnavailable": TransientAwsError,
    "AccessDeniedException": AwsRequestFailed,
}


@pytest.mark.parametrize(
    ("step", "code"),
    [
        (step, code)
        for step in AWS_STEPS
        for code in WRAPPED_BY_CODE
        # a throttled look answers "not ready" instead (the next test)
        if not (code == "ThrottlingException" and step in bounds.THROTTLED_LOOK_STEPS)
    ],
)
def test_an_aws_error_escaping_a_step_is_wrapped_naming_step_and_operation(
    step, code, deployment, lambda_context
):
    wrapped = WRAPPED_BY_CODE[code]
    # Given AWS answering every call of the step with `code`
    operations: list[str] = []

    # When the step runs
    with _refusing_every_call(code, operations), pytest.raises(FargateEnvError) as raised:
        load_handler(step)(sample(step), lambda_context)

    # Then the error is ours, retryable or not by its code (by its exact name: the ASL's
    # Retry rules match names), naming the step and the operation
    assert type(raised.value) is wrapped
    assert str(raised.value).startswith(f"{step}: {operations[0]} failed ({code})")
    assert isinstance(raised.value.__cause__, ClientError)


@pytest.mark.parametrize("step", sorted(bounds.THROTTLED_LOOK_STEPS))
def test_a_throttled_look_of_a_bounded_wait_saw_nothing_yet(step, deployment, lambda_context):
    # Given AWS throttling every call of the look
    operations: list[str] = []

    # When the look runs
    with _refusing_every_call("ThrottlingException", operations):
        look = load_handler(step)(sample(step), lambda_context)

    # Then it is not ready (the loop looks again after its interval), saying why
    assert look["ready"] is False
    assert look["throttled"] is True
    assert f"{step}: {operations[0]} failed (ThrottlingException)" in look["summary"]
