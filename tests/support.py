"""Helpers the tests share (importable as tests.support; pytest puts the repo root on the path)."""

from __future__ import annotations

import base64
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = REPO_ROOT / "functions"
EVENTS = REPO_ROOT / "events"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
#: GitHub Actions' OIDC provider (its URL without the scheme, as IAM's condition keys name it).
GITHUB_OIDC = "token.actions.githubusercontent.com"


@dataclass
class FakeContext:
    function_name: str = "fargate-env-test"
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:fargate-env-test"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def step_names() -> list[str]:
    return sorted(p.name for p in FUNCTIONS.iterdir() if (p / "app.py").exists())


_loaded: dict[str, ModuleType] = {}


def load_handler(step: str) -> Any:
    """functions/<step>/app.py's lambda_handler, loaded the way Lambda loads it."""
    module = _loaded.get(step)
    if module is None:
        path = FUNCTIONS / step / "app.py"
        spec = importlib.util.spec_from_file_location(f"fargate_env_functions.{step}", path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _loaded[step] = module
    return module.lambda_handler


def load_event(relative: str) -> Any:
    return json.loads((EVENTS / relative).read_text())


def sample_spec(sample: str, env: str) -> dict[str, Any]:
    """events/inputs/provision-<sample>.json's spec for environment `env`: its secrets move
    with it (an environment reads only the secrets of its own folder, <prefix><env>/)."""
    spec = load_event(f"inputs/provision-{sample}.json")["spec"]
    text = json.dumps(spec).replace(f"/{spec['name']}/", f"/{env}/")
    return {**json.loads(text), "name": env}


def deployment_environment() -> dict[str, str]:
    """Create (in the active moto account) what the template would, and return the function
    environment variables that point at it."""
    import boto3

    iam = boto3.client("iam", region_name=REGION)
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    boundary = iam.create_policy(
        PolicyName="execution-role-boundary",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"},
                ],
            }
        ),
    )["Policy"]["Arn"]
    task_role = iam.create_role(RoleName="task", AssumeRolePolicyDocument=trust)
    scheduler_role = iam.create_role(RoleName="scheduler", AssumeRolePolicyDocument=trust)
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName="fargate-env-registry",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "name", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "name", "KeyType": "HASH"}],
    )
    return {
        "EXECUTION_ROLE_BOUNDARY_ARN": boundary,
        "EXECUTION_ROLE_PATH": "/fargate-env/fargate-env/",
        "TASK_ROLE_ARN": task_role["Role"]["Arn"],
        "SCHEDULER_ROLE_ARN": scheduler_role["Role"]["Arn"],
        "REGISTRY_TABLE_NAME": "fargate-env-registry",
        "EVENT_BUS_NAME": "default",
        "TEARDOWN_STATE_MACHINE_ARN": (
            f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:fargate-env-teardown"
        ),
        "ALLOWED_SECRET_ARN_PREFIXES": (
            f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:parameter/fargate-env/,"
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:fargate-env/"
        ),
        "SHARED_SECRETS_NAME": "_shared",
        "ALLOWED_TASK_ROLE_ARN_PREFIX": f"arn:aws:iam::{ACCOUNT_ID}:role/fargate-env-apps/",
        "ALLOWED_ECR_REPOSITORY_ARNS": f"arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repository/*",
    }


def github_token(**claims: object) -> str:
    """A token as GitHub's OIDC provider issues it to a workflow (unsigned: the embedded AWS
    reads its claims, as STS does after checking the signature)."""
    payload = {"iss": f"https://{GITHUB_OIDC}", "aud": "sts.amazonaws.com", **claims}

    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part(payload)}.signature"
