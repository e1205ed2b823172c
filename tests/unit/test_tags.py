"""Tags within AWS's limit of 50 per resource (ECS, ELBv2, EC2, CloudWatch Logs): every create
request the steps make, for a spec with as many tags as the spec allows, counted as AWS counts
them (tags whose key starts with "aws:" do not count; fargate-env adds none)."""

from __future__ import annotations

from typing import Any

import pytest

from fargate_env import naming
from fargate_env.aws import client
from tests.support import FakeContext, deployment_environment
from tests.unit.handler_fixtures import World

#: AWS's limit per resource, for every kind fargate-env creates (each service's tagging docs).
AWS_TAG_LIMIT = 50

#: Every tagged create request the steps make: resource kind -> (service, operation, where the
#: request carries its tags).
TAGGED_CREATES: dict[str, tuple[str, str, str]] = {
    "security group": ("ec2", "CreateSecurityGroup", "TagSpecifications"),
    "target group": ("elasticloadbalancing", "CreateTargetGroup", "Tags"),
    "load balancer": ("elasticloadbalancing", "CreateLoadBalancer", "Tags"),
    "listener": ("elasticloadbalancing", "CreateListener", "Tags"),
    "log group": ("logs", "CreateLogGroup", "tags"),
    "task definition": ("ecs", "RegisterTaskDefinition", "tags"),
    "cluster": ("ecs", "CreateCluster", "tags"),
    "service": ("ecs", "CreateService", "tags"),
}
CREATE_STEPS = (
    "resolve_network",
    "create_security_groups",
    "create_target_group",
    "create_load_balancer",
    "create_listeners",
    "create_log_group",
    "register_task_definition",
    "create_cluster",
    "create_service",
)
MOST_USER_TAGS = {f"team-{i:02d}": f"value {i}" for i in range(naming.MAX_USER_TAGS)}


def tag_keys(params: dict[str, Any], where: str) -> list[str]:
    tags = params.get(where)
    if where == "TagSpecifications":
        return [tag["Key"] for spec in tags or [] for tag in spec["Tags"]]
    if isinstance(tags, dict):
        return list(tags)
    return [tag.get("Key", tag.get("key")) for tag in tags or []]


@pytest.fixture(scope="module")
def requests() -> list[tuple[str, str, dict]]:
    """(service, operation, request) of every call the create steps make, for a spec with the
    most tags it may have (run once for the module: the requests are only read)."""
    from moto import mock_aws

    from fargate_env.aws import reset_clients

    seen: list[tuple[str, str, dict]] = []
    with mock_aws(), pytest.MonkeyPatch.context() as monkeypatch:
        reset_clients()
        for key, value in deployment_environment().items():
            monkeypatch.setenv(key, value)
        for service in ("ec2", "elbv2", "logs", "ecs"):
            sdk = client(service)
            prefix = sdk.meta.service_model.endpoint_prefix

            def record(params: dict, model: Any, prefix: str = prefix, **kwargs: Any) -> None:
                seen.append((prefix, model.name, params))

            sdk.meta.events.register("provide-client-params", record)
        world = World(FakeContext(), monkeypatch)
        with world.cleanup:
            for step in CREATE_STEPS:
                event = world.event(step)
                if "spec" in event:
                    event["spec"]["tags"] = dict(MOST_USER_TAGS)
                world.run(step, event)
        reset_clients()
    return seen


def test_the_spec_allows_as_many_tags_as_leave_room_for_ours():
    assert naming.MAX_USER_TAGS + naming.SYSTEM_TAG_COUNT == AWS_TAG_LIMIT


@pytest.mark.parametrize("kind", sorted(TAGGED_CREATES))
def test_each_resource_kind_is_created_with_at_most_50_tags(requests, kind):
    service, operation, where = TAGGED_CREATES[kind]
    made = [params for svc, op, params in requests if (svc, op) == (service, operation)]

    assert made, f"no {operation} request: the audit no longer sees {kind}s created"
    for params in made:
        keys = tag_keys(params, where)
        counted = [key for key in keys if not key.lower().startswith("aws:")]
        assert len(counted) <= AWS_TAG_LIMIT, f"{kind}: {len(counted)} tags"
        assert set(MOST_USER_TAGS) <= set(keys), f"{kind} lost user tags"


def test_every_tagged_create_request_is_audited(requests):
    tagged = {
        (service, operation)
        for service, operation, params in requests
        if any(key in params for key in ("Tags", "tags", "TagSpecifications"))
    }
    assert tagged == {(service, operation) for service, operation, _ in TAGGED_CREATES.values()}
