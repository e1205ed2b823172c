"""The optional role of the pull-request workflow (template.yaml GitHubDeployRole), least
privilege: only pull-request workflows of the named repository may assume it, through GitHub's
OIDC provider; it may make the calls the workflow's own fenv commands make (recorded by running
them, from examples/github/preview.yml, on the embedded AWS) on this stack's resources, and push
to the one image repository - nothing else."""

from __future__ import annotations

import contextlib
import io
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from embedded_aws import iam_policy
from embedded_aws.emulator import ACCOUNT_ID, EmbeddedAWS
from fenv_cli import errors
from fenv_cli.app import main
from tests.contract.preview_workflow import FenvCall, fenv_calls, load
from tests.contract.test_iam import FAST, allowed_actions, role_statements, translated
from tests.support import GITHUB_OIDC, REGION, github_token

ROLE = "GitHubDeployRole"
REPOSITORY = "octo-org/shop"
IMAGE_REPOSITORY = "octo-org/shop"
PULL_REQUEST = f"repo:{REPOSITORY}:pull_request"
#: What `docker push` needs of the caller (ECR user guide, "Pushing a Docker image").
ECR_PUSH = {
    "ecr:GetAuthorizationToken",
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
}


# ---------------------------------------------------------------------------- the template
def test_the_role_its_provider_and_its_output_exist_only_when_a_repository_is_named():
    cfn = translated()
    for parameter in ("GitHubRepository", "GitHubOidcProviderArn", "GitHubImageRepository"):
        assert cfn["Parameters"][parameter]["Default"] == "", parameter
    assert cfn["Resources"][ROLE]["Condition"] == "HasGitHubRepository"
    assert cfn["Outputs"]["GitHubDeployRoleArn"]["Condition"] == "HasGitHubRepository"
    # IAM allows one provider per URL in an account: made only when none is named
    provider = cfn["Resources"]["GitHubOidcProvider"]
    assert provider["Condition"] == "CreatesGitHubOidcProvider"
    assert provider["Properties"]["Url"] == f"https://{GITHUB_OIDC}"
    assert provider["Properties"]["ClientIdList"] == ["sts.amazonaws.com"]


@pytest.mark.parametrize(
    ("parameter", "value", "allowed"),
    [
        ("GitHubRepository", "octo-org/shop", True),
        ("GitHubRepository", "octo/shop.web_2", True),
        ("GitHubRepository", "octo-org", False),
        ("GitHubRepository", "octo-org/*", False),  # a wildcard would trust every repository
        ("GitHubRepository", "octo-org/shop:ref:refs/heads/main", False),
        ("GitHubOidcProviderArn", f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{GITHUB_OIDC}", True),
        ("GitHubOidcProviderArn", f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/gitlab.com", False),
        ("GitHubImageRepository", "octo-org/shop", True),
        ("GitHubImageRepository", "*", False),
        ("GitHubImageRepository", "Shop", False),
    ],
)
def test_the_parameters_refuse_what_would_widen_the_role(parameter, value, allowed):
    pattern = translated()["Parameters"][parameter]["AllowedPattern"]
    assert (re.fullmatch(pattern, value) is not None) is allowed


# ---------------------------------------------------------------------------- deployed
def _with_an_existing_provider(aws: EmbeddedAWS) -> dict[str, str]:
    """The account already has GitHub's provider (IAM allows one per URL), and the ECR
    repository the workflow pushes to."""
    provider = aws.client("iam").create_open_id_connect_provider(
        Url=f"https://{GITHUB_OIDC}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["a" * 40]
    )["OpenIDConnectProviderArn"]
    aws.client("ecr").create_repository(repositoryName=IMAGE_REPOSITORY)
    return {
        "GitHubRepository": REPOSITORY,
        "GitHubOidcProviderArn": provider,
        "GitHubImageRepository": IMAGE_REPOSITORY,
    }


@pytest.fixture(scope="module")
def github_aws() -> Iterator[EmbeddedAWS]:
    with EmbeddedAWS(model=FAST, parameters=_with_an_existing_provider) as aws:
        yield aws


@pytest.fixture(scope="module")
def deploy_role(github_aws: EmbeddedAWS) -> iam_policy.RolePolicies:
    account = github_aws.plane.inspect_account()
    found = iam_policy.role(account.iam, github_aws.outputs["GitHubDeployRoleArn"])
    assert found is not None
    return found


@contextlib.contextmanager
def recorded_calls() -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
    """(IAM service prefix, operation, parameters) of every AWS call this thread makes - fenv's,
    not the handlers' (they run on the embedded AWS's threads)."""
    import botocore.client

    original = botocore.client.BaseClient._make_api_call
    calls: list[tuple[str, str, dict[str, Any]]] = []
    caller = threading.current_thread()

    def record(client: Any, operation: str, parameters: dict[str, Any]) -> Any:
        if threading.current_thread() is caller:
            calls.append((client.meta.service_model.signing_name, operation, dict(parameters)))
        return original(client, operation, parameters)

    botocore.client.BaseClient._make_api_call = record
    try:
        yield calls
    finally:
        botocore.client.BaseClient._make_api_call = original


def _run_job(job: str, variables: dict[str, str], calls: list[FenvCall]) -> list[int]:
    """The fenv commands of one job of the workflow, in order: their exit codes."""
    codes = []
    for call in calls:
        if call.job == job:
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
                codes.append(main(call.expanded(variables)))
    return codes


@pytest.fixture(scope="module")
def workflow_requests(
    github_aws: EmbeddedAWS, tmp_path_factory: pytest.TempPathFactory
) -> set[tuple[str, str]]:
    """(IAM action, resource) of every call the workflow's fenv commands made: a pull request
    opened (created), pushed to (updated in place), closed (torn down), and the close of one
    whose environment was never made."""
    spec = Path(tmp_path_factory.mktemp("workflow")) / "preview.json"
    spec.write_text('{"spec": {"name": "preview"}}')
    registry = f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/{IMAGE_REPOSITORY}"
    calls = fenv_calls(load())
    opened = {"ENVIRONMENT": "pr-7", "SPEC": str(spec), "IMAGE": f"{registry}:c0ffee1"}
    pushed = {**opened, "IMAGE": f"{registry}:c0ffee2"}
    with recorded_calls() as made:
        # wait: no environment yet (3), then created; wait: READY (0), then updated
        assert _run_job("up", opened, calls) == [errors.NOT_FOUND, errors.OK]
        assert _run_job("up", pushed, calls) == [errors.OK, errors.OK]
        assert _run_job("down", opened, calls) == [errors.OK]
        assert _run_job("down", {"ENVIRONMENT": "pr-8"}, calls) == [errors.NOT_FOUND]
    assert github_aws.remaining("pr-7") == []
    stack = github_aws.client("cloudformation").describe_stacks(StackName=github_aws.stack_name)
    return {
        (f"{service}:{operation}", _resource(service, parameters, stack["Stacks"][0]["StackId"]))
        for service, operation, parameters in made
    }


def _resource(service: str, parameters: dict[str, Any], stack_id: str) -> str:
    """The resource IAM authorises a call on (each kind of call fenv makes)."""
    if service == "cloudformation":
        return stack_id
    if service == "dynamodb":
        return f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{parameters['TableName']}"
    if service == "states":
        return str(parameters.get("stateMachineArn") or parameters["executionArn"])
    raise AssertionError(f"fenv called {service} {parameters}: say which resource IAM checks")


@pytest.mark.slow
def test_the_role_may_make_every_call_the_workflows_fenv_commands_make(
    workflow_requests, deploy_role
):
    denied = sorted(
        (action, resource)
        for action, resource in workflow_requests
        if not deploy_role.allows(action, resource)
    )
    assert denied == []
    # what the workflow uses of fenv: the stack's outputs, the registry, the three machines
    assert {action.split(":")[0] for action, _ in workflow_requests} == {
        "cloudformation",
        "dynamodb",
        "states",
    }


@pytest.mark.slow
def test_the_role_may_make_only_those_calls_and_push_the_image(workflow_requests):
    called = {action for action, _ in workflow_requests}
    assert allowed_actions(role_statements(ROLE)) - called == ECR_PUSH
    assert called <= allowed_actions(role_statements(ROLE))


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{resource}"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("action", "resource", "allowed"),
    [
        ("states:StartExecution", _arn("states", "stateMachine:fargate-env-provision"), True),
        ("states:StartExecution", _arn("states", "stateMachine:fargate-env-update"), True),
        ("states:StartExecution", _arn("states", "stateMachine:fargate-env-teardown"), True),
        ("states:StartExecution", _arn("states", "stateMachine:other-provision"), False),
        ("states:DescribeExecution", _arn("states", "execution:fargate-env-update:x"), True),
        ("states:DescribeExecution", _arn("states", "execution:other-provision:x"), False),
        ("states:StopExecution", _arn("states", "execution:fargate-env-provision:x"), False),
        ("dynamodb:GetItem", _arn("dynamodb", "table/other"), False),
        ("cloudformation:DescribeStacks", _arn("cloudformation", "stack/other/1"), False),
        ("ecr:PutImage", _arn("ecr", f"repository/{IMAGE_REPOSITORY}"), True),
        ("ecr:PutImage", _arn("ecr", "repository/other"), False),
        ("iam:PassRole", f"arn:aws:iam::{ACCOUNT_ID}:role/anything", False),
    ],
)
def test_the_role_reaches_only_this_stacks_machines_and_the_image_repository(
    deploy_role, action, resource, allowed
):
    assert deploy_role.allows(action, resource) is allowed


@pytest.mark.slow
@pytest.mark.parametrize("action", ["PutItem", "UpdateItem", "DeleteItem", "Scan", "Query"])
def test_the_role_only_reads_registry_items_one_by_one(github_aws, deploy_role, action):
    table = _arn("dynamodb", f"table/{github_aws.physical['RegistryTable']}")
    assert deploy_role.allows("dynamodb:GetItem", table)
    assert not deploy_role.allows(f"dynamodb:{action}", table)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("claims", "allowed"),
    [
        ({"sub": PULL_REQUEST}, True),
        ({"sub": f"repo:{REPOSITORY}:ref:refs/heads/main"}, False),  # a push
        ({"sub": f"repo:{REPOSITORY}:environment:production"}, False),  # a deployment job
        ({"sub": "repo:octo-org/other:pull_request"}, False),  # another repository
        ({"sub": PULL_REQUEST, "aud": "https://github.com/octo-org"}, False),  # another audience
    ],
)
def test_only_pull_request_workflows_of_the_repository_may_assume_it(github_aws, claims, allowed):
    sts = github_aws.client("sts")
    request = {
        "RoleArn": github_aws.outputs["GitHubDeployRoleArn"],
        "RoleSessionName": "preview-pr-7",
        "WebIdentityToken": github_token(**claims),
    }
    if allowed:
        assert sts.assume_role_with_web_identity(**request)["Credentials"]["AccessKeyId"]
    else:
        with pytest.raises(ClientError) as refused:
            sts.assume_role_with_web_identity(**request)
        assert refused.value.response["Error"]["Code"] in ("AccessDenied", "InvalidIdentityToken")
