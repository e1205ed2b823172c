"""The runbook's example end to end, and the samples, on the embedded AWS with AWS's latencies."""

from __future__ import annotations

import pytest

from embedded_aws import prerequisites
from embedded_aws.emulator import EmbeddedAWS
from tests.flows.conftest import REAL
from tests.support import sample_spec


def test_nginx_example_provisions_answers_and_tears_down_completely(
    embedded: EmbeddedAWS, env_name
):
    # Given AWS's own latencies
    embedded.reconfigure(model=REAL)

    # When the runbook's example is provisioned
    provision = embedded.provision({"name": env_name})

    # Then it succeeds with a URL that answered 200 through the load balancer's DNS name
    assert provision.status == "SUCCEEDED", provision.cause
    assert provision.output["url"] == f"http://fenv-{env_name}-web-1.us-east-1.elb.amazonaws.com/"
    assert [check["status"] for check in provision.output["verification"]] == [200]
    assert len(embedded.remaining(env_name)) == 9

    # When it is torn down
    teardown = embedded.teardown(env_name)

    # Then nothing tagged with the environment is left anywhere
    assert teardown.status == "SUCCEEDED", teardown.cause
    assert teardown.output["deleted_count"] == 10
    assert embedded.remaining(env_name) == []


@pytest.mark.parametrize("name", ["nlb", "https", "secrets-volumes"])
def test_samples_provision_and_tear_down(embedded: EmbeddedAWS, env_name, name, tmp_path):
    # Given what the sample refers to exists (certificate, secrets, file system)
    spec = prerequisites.provide(embedded, sample_spec(name, env_name), tmp_path)

    provision = embedded.provision(spec)
    assert provision.status == "SUCCEEDED", provision.cause
    assert all(check["status"] == 200 for check in provision.output["verification"])

    teardown = embedded.teardown(env_name)
    assert teardown.status == "SUCCEEDED", teardown.cause
    assert embedded.remaining(env_name) == []
