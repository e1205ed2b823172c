"""What tests/unit/test_handlers.py builds on: the sample events, a moto account the steps have
built up to some point (`World`), the prerequisites no step creates, and readers of AWS state.

The sample events (events/functions/<step>.json) hold realistic ids that moto cannot reproduce
(security group ids, ARNs with random parts). A World runs each step through its handler with its
own sample event after swapping every sample id it has learned for the real one, and learns new
pairs from each create step's result by comparing it with the same result as the sample events
record it (the provisioning's `resources` in record_environment_ready.json).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from tests.support import REGION, load_event, load_handler

ENV = "demo"  # the environment of every sample event
ENV_TAG = "fargate-env:environment"


def sample(step: str) -> dict[str, Any]:
    """A fresh copy of the step's sample event."""
    return load_event(f"functions/{step}.json")


SAMPLE_RESOURCES: dict[str, Any] = sample("record_environment_ready")["outcome"]["resources"]
SAMPLE_LB: dict[str, Any] = SAMPLE_RESOURCES["load_balancers"][0]
SAMPLE_INVENTORY: dict[str, Any] = sample("delete_service")["inventory"]

# Each create step's result as the sample events record it (the state machine copies these
# results into $resources, and later steps' events are made of them).
SAMPLE_RESULTS: dict[str, Any] = {
    "resolve_network": SAMPLE_RESOURCES["network"],
    "create_security_groups": SAMPLE_RESOURCES["security_groups"],
    "create_target_group": {
        "id": SAMPLE_LB["id"],
        "arn": SAMPLE_LB["target_group_arn"],
        "name": SAMPLE_LB["target_group_name"],
    },
    "create_load_balancer": {k: SAMPLE_LB[k] for k in ("id", "arn", "name", "dns_name", "type")},
    "create_listeners": {k: SAMPLE_LB[k] for k in ("id", "listener_arns", "url")},
    "create_log_group": {"name": SAMPLE_RESOURCES["log_group"]},
    "create_execution_role": SAMPLE_RESOURCES["execution_role"],
    "register_task_definition": SAMPLE_RESOURCES["task_definition"],
    "run_pre_traffic_task": sample("check_pre_traffic_task")["task"],
    "create_cluster": SAMPLE_RESOURCES["cluster"],
    "create_service": SAMPLE_RESOURCES["service"],
}


# ---------------------------------------------------------------- sample id -> real id


def learn(sample_value: Any, real_value: Any, pairs: list[tuple[Any, Any]]) -> None:
    """Add (sample, real) for every id that differs between two results of the same shape.
    Only strings and string lists are ids (numbers such as a revision are never swapped)."""
    if sample_value == real_value:
        return
    if isinstance(sample_value, dict) and isinstance(real_value, dict):
        if sample_value.keys() == real_value.keys():
            for key in sample_value:
                learn(sample_value[key], real_value[key], pairs)
    elif isinstance(sample_value, list) and isinstance(real_value, list):
        if len(sample_value) == len(real_value):
            for one, other in zip(sample_value, real_value, strict=True):
                learn(one, other, pairs)
        else:  # e.g. the sample's two subnets, moto's six default subnets
            pairs.append((sample_value, real_value))
    elif isinstance(sample_value, str) and isinstance(real_value, str):
        pairs.append((sample_value, real_value))


def substitute(value: Any, pairs: list[tuple[Any, Any]]) -> Any:
    """`value` with every sample id of `pairs` replaced by its real one."""
    for sample_value, real_value in pairs:
        if value == sample_value:
            return real_value
    if isinstance(value, dict):
        return {key: substitute(item, pairs) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, pairs) for item in value]
    return value


# ---------------------------------------------------------------- the account, step by step

Prerequisite = str | Callable[["World"], None]


class World:
    """A moto account, built by running steps (or other prerequisites) in order."""

    def __init__(self, context: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.context = context
        self.monkeypatch = monkeypatch
        self.ids: list[tuple[Any, Any]] = []
        self.cleanup = contextlib.ExitStack()

    def real(self, value: Any) -> Any:
        return substitute(value, self.ids)

    def event(self, step: str) -> dict[str, Any]:
        """The step's sample event, pointing at what exists in this account."""
        return self.real(sample(step))

    def run(self, step: str, event: dict[str, Any] | None = None) -> Any:
        result = load_handler(step)(self.event(step) if event is None else event, self.context)
        if step in SAMPLE_RESULTS:
            learn(SAMPLE_RESULTS[step], result, self.ids)
        return result

    def given(self, *prerequisites: Prerequisite) -> None:
        for prerequisite in prerequisites:
            if callable(prerequisite):
                prerequisite(self)
            else:
                self.run(prerequisite)

    def use(self, sample_value: Any, real_value: Any) -> None:
        """From now on, the sample events' `sample_value` means `real_value`."""
        self.ids.insert(0, (sample_value, real_value))


# ---------------------------------------------------------------- prerequisites no step creates


def with_time_to_live(event: dict[str, Any], minutes: int = 240) -> dict[str, Any]:
    event["spec"]["time_to_live_minutes"] = minutes
    return event


def an_expiry_schedule(world: World) -> None:
    """The environment is ready with a time to live (registry item claimed first)."""
    world.run(
        "record_environment_ready", with_time_to_live(world.event("record_environment_ready"))
    )


def tasks_keep_running(world: World) -> None:
    """ECS starts the service's task (moto: the running count of services created from now)."""
    world.monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "1")


def a_healthy_target(world: World) -> None:
    """The running task registered in the target group (ECS does this for a real service)."""
    boto("elbv2").register_targets(
        TargetGroupArn=world.real(SAMPLE_LB["target_group_arn"]),
        Targets=[{"Id": "172.31.16.20", "Port": 80}],
    )


@contextlib.contextmanager
def serving(status: int = 200, seen: list[dict[str, str]] | None = None) -> Iterator[str]:
    """A loopback HTTP server answering every GET with `status`; yields its URL. `seen`
    collects each request's path and Host header."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if seen is not None:
                seen.append({"path": self.path, "host": self.headers.get("Host", "")})
            body = b"<h1>Welcome to nginx!</h1>"
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def the_load_balancer_address_is_local(world: World) -> None:
    """The sample's private address of the load balancer is this machine (for the probe)."""
    world.use(sample("probe_endpoint")["address"], "127.0.0.1")


def a_web_server_at_the_url(world: World) -> None:
    """The load balancer's URL answers (a loopback server stands in for it)."""
    world.use(SAMPLE_LB["url"], world.cleanup.enter_context(serving(200)))


# ---------------------------------------------------------------- reading AWS state


def boto(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def key_values(tags: list[dict[str, str]] | None) -> dict[str, str]:
    """Either tag shape ({"Key", "Value"} or ECS's {"key", "value"}) as a dict."""
    return {
        tag.get("Key", tag.get("key")): tag.get("Value", tag.get("value")) for tag in tags or []
    }


def error_code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def default_vpc() -> str:
    vpcs = boto("ec2").describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    return str(vpcs[0]["VpcId"])


def cluster_named(name: str) -> dict[str, Any] | None:
    """The ACTIVE cluster `name`, with its tags."""
    clusters = boto("ecs").describe_clusters(clusters=[name], include=["TAGS"])["clusters"]
    return next((c for c in clusters if c["status"] == "ACTIVE"), None)


def service_status(cluster: str, name: str) -> str:
    try:
        services = boto("ecs").describe_services(cluster=cluster, services=[name])["services"]
    except Exception as exc:
        if error_code(exc) == "ClusterNotFoundException":
            return "MISSING"
        raise
    return str(services[0]["status"]) if services else "MISSING"


def ecs_tags(arn: str) -> dict[str, str]:
    return key_values(boto("ecs").list_tags_for_resource(resourceArn=arn)["tags"])


def task_definition_revisions(family: str) -> dict[str, list[str]]:
    ecs = boto("ecs")
    return {
        status: ecs.list_task_definitions(familyPrefix=family, status=status)["taskDefinitionArns"]
        for status in ("ACTIVE", "INACTIVE")
    }


def load_balancer_named(name: str) -> dict[str, Any] | None:
    found = boto("elbv2").describe_load_balancers()["LoadBalancers"]
    return next((lb for lb in found if lb["LoadBalancerName"] == name), None)


def target_group_named(name: str) -> dict[str, Any] | None:
    found = boto("elbv2").describe_target_groups()["TargetGroups"]
    return next((group for group in found if group["TargetGroupName"] == name), None)


def elbv2_tags(arn: str) -> dict[str, str]:
    described = boto("elbv2").describe_tags(ResourceArns=[arn])["TagDescriptions"]
    return key_values(described[0]["Tags"])


def security_group(group_id: str) -> dict[str, Any] | None:
    try:
        return dict(boto("ec2").describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0])
    except Exception as exc:
        if error_code(exc) in ("InvalidGroup.NotFound", "InvalidGroupId.NotFound"):
            return None
        raise


def security_groups_named(*names: str) -> list[dict[str, Any]]:
    groups = boto("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": list(names)}]
    )["SecurityGroups"]
    return list(groups)


def security_groups_tagged(env: str) -> list[dict[str, Any]]:
    groups = boto("ec2").describe_security_groups(
        Filters=[{"Name": f"tag:{ENV_TAG}", "Values": [env]}]
    )["SecurityGroups"]
    return list(groups)


def log_group_named(name: str) -> dict[str, Any] | None:
    groups = boto("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    return next((group for group in groups if group["logGroupName"] == name), None)


def role_named(name: str) -> dict[str, Any] | None:
    """The IAM role `name`, with its tags and its inline policies' documents."""
    iam = boto("iam")
    try:
        role = dict(iam.get_role(RoleName=name)["Role"])
    except Exception as exc:
        if error_code(exc) == "NoSuchEntity":
            return None
        raise
    role["Policies"] = {
        policy: iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
        for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]
    }
    return role


def log_group_tags(name: str) -> dict[str, str]:
    return dict(boto("logs").list_tags_log_group(logGroupName=name)["tags"])


def schedule_named(name: str) -> dict[str, Any] | None:
    try:
        return dict(boto("scheduler").get_schedule(Name=name))
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise


def registry_item(name: str = ENV) -> dict[str, Any] | None:
    from fargate_env import registry

    return registry.get(name)
