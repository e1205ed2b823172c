"""The cluster, in an account whose first cluster it is: ECS creates its service-linked role on
that first CreateCluster and cannot assume it for a few seconds; the step must ask to be retried,
and a retry must finish a cluster the failed call left without its capacity providers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from fargate_env import cluster, naming
from fargate_env.aws import client
from fargate_env.errors import TransientAwsError

ROLE_NOT_READY = (
    "Unable to assume the service linked role. Please verify that the ECS service linked role "
    "exists."
)


@contextlib.contextmanager
def create_cluster_refused(message: str) -> Iterator[None]:
    """ECS answering the step's CreateCluster with InvalidParameterException `message`."""
    with Stubber(client("ecs")) as stub:
        stub.add_response("describe_clusters", {"clusters": [], "failures": []})
        stub.add_client_error(
            "create_cluster",
            service_error_code="InvalidParameterException",
            service_message=message,
            http_status_code=400,
        )
        yield


def test_the_service_linked_role_still_propagating_is_retryable(aws, spec):
    # Given ECS answering the first CreateCluster of the account as it does while its
    # service-linked role propagates
    # When / Then the step raises the error the state machine retries, not a terminal one
    with (
        create_cluster_refused(ROLE_NOT_READY),
        pytest.raises(TransientAwsError, match="service-linked role"),
    ):
        cluster.ensure(spec)
    assert TransientAwsError.retryable


def test_other_invalid_parameters_stay_terminal(aws, spec):
    with (
        create_cluster_refused("Invalid capacity provider strategy"),
        pytest.raises(ClientError, match="Invalid capacity provider strategy"),
    ):
        cluster.ensure(spec)


def test_a_retry_gives_a_cluster_left_without_capacity_providers_its_providers(aws, spec):
    # Given our cluster as a CreateCluster that failed on the role left it: no providers
    tags: dict[str, Any] = naming.environment_tags(spec["name"])
    ecs = boto3.client("ecs", region_name="us-east-1")
    ecs.create_cluster(clusterName=naming.cluster_name(spec["name"]), tags=naming.as_ecs_tags(tags))

    # When the step runs again
    result = cluster.ensure(spec)

    # Then the cluster has the providers the service's strategy names
    [described] = ecs.describe_clusters(clusters=[result["arn"]])["clusters"]
    assert described["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
