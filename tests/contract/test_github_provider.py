"""A deployment naming a repository but no OIDC provider creates GitHub's provider, and its role
trusts that one (template.yaml GitHubOidcProvider; the embedded AWS deploys it, as
CloudFormation does)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from embedded_aws.emulator import EmbeddedAWS
from tests.contract.test_iam import FAST
from tests.support import GITHUB_OIDC, github_token

REPOSITORY = "octo-org/shop"


@pytest.fixture(scope="module")
def new_provider_aws() -> Iterator[EmbeddedAWS]:
    with EmbeddedAWS(model=FAST, parameters={"GitHubRepository": REPOSITORY}) as aws:
        yield aws


@pytest.mark.slow
def test_the_stack_creates_githubs_provider_and_its_role_trusts_it(new_provider_aws):
    iam, sts = new_provider_aws.client("iam"), new_provider_aws.client("sts")
    [listed] = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=listed["Arn"])
    assert listed["Arn"].endswith(f":oidc-provider/{GITHUB_OIDC}")
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]
    request = {
        "RoleArn": new_provider_aws.outputs["GitHubDeployRoleArn"],
        "RoleSessionName": "preview-pr-1",
    }

    pull_request = github_token(sub=f"repo:{REPOSITORY}:pull_request")
    assert sts.assume_role_with_web_identity(**request, WebIdentityToken=pull_request)

    push = github_token(sub=f"repo:{REPOSITORY}:ref:refs/heads/main")
    with pytest.raises(ClientError) as refused:
        sts.assume_role_with_web_identity(**request, WebIdentityToken=push)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
