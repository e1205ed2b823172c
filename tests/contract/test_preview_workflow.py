"""examples/github/preview.yml: it calls only fenv commands and options that exist, runs with the
least permissions, pins every action, takes AWS credentials only through GitHub's OIDC provider,
and runs one execution per pull request at a time. (actionlint checks the rest in make check.)"""

from __future__ import annotations

import re

import pytest

from fargate_env import validation
from fenv_cli.app import build_parser
from tests.contract import preview_workflow
from tests.contract.preview_workflow import fenv_calls, load

WORKFLOW = load()
CALLS = fenv_calls(WORKFLOW)
#: What the steps' variables hold when the workflow runs (for parsing its commands).
VARIABLES = {
    "ENVIRONMENT": "pr-42",
    "SPEC": "preview.json",
    "IMAGE": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:0123abcd",
}
#: The commands the deploy role's policy is written for (tests/contract/test_github_role.py).
ROLE_COMMANDS = {"up", "wait", "down"}


@pytest.mark.parametrize("call", CALLS, ids=lambda call: f"{call.job}-{call.argv[0]}")
def test_every_fenv_command_of_the_workflow_exists_with_its_options(call):
    # fenv's own parser: an unknown command or option exits 2 (BAD_INPUT)
    args = build_parser().parse_args(call.expanded(VARIABLES))
    assert args.command == call.argv[0]


def test_the_workflow_runs_exactly_the_commands_its_role_allows():
    assert {call.argv[0] for call in CALLS} == ROLE_COMMANDS
    up = next(call for call in CALLS if call.argv[0] == "up")
    args = build_parser().parse_args(up.expanded(VARIABLES))
    # the environment of the pull request, with the commit's image
    assert (args.environment, args.image) == (VARIABLES["ENVIRONMENT"], VARIABLES["IMAGE"])


def test_a_parser_refuses_what_fenv_does_not_have():
    # the check above can fail: an option fenv lacks is refused
    with pytest.raises(SystemExit):
        build_parser().parse_args(["up", "spec.json", "--no-such-option", "x"])


@pytest.mark.parametrize("number", [1, 42, 99_999_999_999_999_999])
def test_the_environment_of_a_pull_request_is_a_valid_name(number):
    assert WORKFLOW["env"]["ENVIRONMENT"] == "pr-${{ github.event.pull_request.number }}"
    assert validation.normalised_spec({"name": f"pr-{number}"})["name"] == f"pr-{number}"


def test_it_runs_on_the_pull_requests_events():
    assert WORKFLOW["on"] == {
        "pull_request": {"types": ["opened", "synchronize", "reopened", "closed"]}
    }
    jobs = WORKFLOW["jobs"]
    assert "github.event.action != 'closed'" in jobs["up"]["if"]
    assert "github.event.action == 'closed'" in jobs["down"]["if"]
    # Pull requests from forks get no OIDC token: both jobs leave them out, clearly
    for job in jobs.values():
        assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]


#: What each job may do with the GITHUB_TOKEN, and why.
PERMISSIONS = {
    "up": {"contents": "read", "id-token": "write", "pull-requests": "write"},
    "down": {"id-token": "write", "pull-requests": "write"},
}


def test_least_permissions_nothing_by_default_each_job_what_it_uses():
    assert WORKFLOW["permissions"] == {}
    for job_id, job in WORKFLOW["jobs"].items():
        assert job["permissions"] == PERMISSIONS[job_id], job_id
        checks_out = any("actions/checkout@" in step.get("uses", "") for step in job["steps"])
        assert ("contents" in job["permissions"]) == checks_out, job_id


def test_aws_credentials_only_through_githubs_oidc_provider():
    for job_id, job in WORKFLOW["jobs"].items():
        configure = [
            step
            for step in job["steps"]
            if step.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
        ]
        assert len(configure) == 1, job_id
        inputs = configure[0]["with"]
        assert inputs["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
        assert not {"aws-access-key-id", "aws-secret-access-key", "aws-session-token"} & set(inputs)
        # and no secret anywhere: the role is the only way in
        assert "secrets." not in str(job), job_id


def test_every_action_is_pinned_to_a_commit_with_its_version_named():
    uses = re.findall(r"uses: (\S+)(.*)", preview_workflow.WORKFLOW.read_text())
    assert uses
    for action, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), action
        assert re.fullmatch(r" # v\d+\.\d+\.\d+", comment), f"{action}: name its version"


def test_one_run_per_pull_request_and_a_teardown_is_never_cancelled():
    concurrency = WORKFLOW["concurrency"]
    assert concurrency["group"] == "preview-pr-${{ github.event.pull_request.number }}"
    assert concurrency["cancel-in-progress"] == "${{ github.event.action != 'closed' }}"
