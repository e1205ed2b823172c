"""The reaper's library (reconcile.py): its input, which tagged resources count as an
environment's leftovers, and which ECS resources the Tagging API lists after their deletion."""

from __future__ import annotations

import boto3
import pytest

from fargate_env import naming, reconcile
from fargate_env.errors import InvalidRequest
from tests.support import REGION


@pytest.mark.parametrize(
    ("given", "dry_run"), [(None, False), ({}, False), ({"dry_run": True}, True)]
)
def test_the_input_is_dry_run_alone(given, dry_run):
    assert reconcile.validate(given) is dry_run


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"dry_run": "yes"}, "dry_run: must be true or false"),
        ({"dry_run": False, "name": "x"}, "name: unknown field"),
        (["dry_run"], "must be a JSON object"),
    ],
)
def test_any_other_input_is_refused_naming_the_field(given, named):
    with pytest.raises(InvalidRequest, match=named):
        reconcile.validate(given)


def test_the_teardown_execution_name_is_stable_per_run_and_fits_step_functions():
    first = reconcile.execution_name("arn:execution:reconcile:a", "abcdefghij-klmnopqrs")
    again = reconcile.execution_name("arn:execution:reconcile:a", "abcdefghij-klmnopqrs")
    other = reconcile.execution_name("arn:execution:reconcile:b", "abcdefghij-klmnopqrs")

    assert first == again != other
    assert len(first) <= 80  # StartExecution's name: 1-80 characters


def _log_group(name: str, tags: dict[str, str]) -> None:
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName=name, tags=tags)


def test_only_this_deployments_environments_count(deployment):
    ours = naming.deployment()
    _log_group("/fargate-env/ours", naming.environment_tags("ours"))
    _log_group(
        "/fargate-env/theirs", {**naming.environment_tags("theirs"), naming.MANAGED_BY_TAG: "other"}
    )
    _log_group("/fargate-env/untagged", {})
    _log_group("/fargate-env/gateway", naming.gateway_tags("p1"))
    _log_group(
        "/fargate-env/bad", {naming.ENVIRONMENT_TAG: "Not_A-Name", naming.MANAGED_BY_TAG: ours}
    )
    too_long = "a" * (naming.MAX_ENVIRONMENT_NAME + 1)
    _log_group("/fargate-env/long", {naming.ENVIRONMENT_TAG: too_long, naming.MANAGED_BY_TAG: ours})

    assert list(reconcile.tagged_environments()) == ["ours"]


def test_an_inactive_ecs_cluster_is_not_a_leftover(deployment):
    ecs = boto3.client("ecs", region_name=REGION)
    tags = naming.as_ecs_tags(naming.environment_tags("gone"))
    arn = ecs.create_cluster(clusterName="fenv-gone", tags=tags)["cluster"]["clusterArn"]
    assert reconcile._exists(arn)

    ecs.delete_cluster(cluster=arn)

    # ECS keeps it INACTIVE, and the Tagging API still lists it
    assert reconcile.tagged_environments() == {"gone": [arn]}
    assert not reconcile._exists(arn)
    assert reconcile.find({"dry_run": True})["findings"] == []
