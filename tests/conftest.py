"""Shared fixtures. Tests never reach a real AWS endpoint: fake credentials are set before
anything imports boto3, and every AWS call goes to moto (unit tests) or to the embedded AWS."""

from __future__ import annotations

import os

# Before any import of boto3 / Powertools: no real credentials, no metrics output, quiet logs.
for _key in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
    os.environ.pop(_key, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "CRITICAL",
        "SAM_CLI_TELEMETRY": "0",
        # No instance runs in a Fargate environment: moto's ~1,300 sample AMIs per new account
        # and region cost 0.3 s each (embedded_aws's environment says the same).
        "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
    }
)

from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

from tests.support import (  # noqa: E402
    ACCOUNT_ID,
    REGION,
    FakeContext,
    deployment_environment,
)


@pytest.fixture
def aws() -> Iterator[None]:
    """A fresh moto account for one test, refusing what AWS refuses (the strict rules that need
    no simulated clock); the library's cached clients are dropped around it."""
    import boto3
    from moto import mock_aws
    from moto.core.models import MockAWS

    from embedded_aws import moto_fixes, strict
    from embedded_aws.patches import Patches
    from fargate_env import aws as fargate_aws

    # A mock already active (an embedded AWS left open) would be shared, not fresh: moto resets
    # its accounts only when the outermost mock starts.
    assert MockAWS._nested_count == 0, "a moto mock is still active: an embedded AWS left open"
    fixes = Patches()
    moto_fixes.install(fixes.set)
    try:
        with mock_aws(), strict.enforced():
            fargate_aws.reset_clients()
            # moto drops boto3's default session (its credentials may predate the mock); the
            # tests' boto3.client() would then read every service model from disk again in
            # every test. moto puts the default session back when it stops.
            boto3.DEFAULT_SESSION = fargate_aws.new_session()
            yield
    finally:
        fixes.undo()
        fargate_aws.reset_clients()


@pytest.fixture
def deployment(aws: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """What the template gives every function: roles, registry table, bus, teardown machine."""
    values = deployment_environment()
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture
def lambda_context() -> FakeContext:
    return FakeContext()


@pytest.fixture
def region() -> str:
    return REGION


@pytest.fixture
def account_id() -> str:
    return ACCOUNT_ID


@pytest.fixture
def spec() -> dict[str, Any]:
    """The runbook's example, normalised, for environment "unit"."""
    from fargate_env import spec as spec_model

    return spec_model.normalise(spec_model.parse({"name": "unit"}))
