"""Each environment's own task execution role: the role ECS uses to pull the images, write the
task's logs and read its secrets. One per environment, so that environment A cannot read
environment B's secrets even when A's spec names them: the role's policy lists exactly the
secrets, images and log group of its own spec, and the deployment's permissions boundary (a
policy of template.yaml that every such role must carry, IAM enforces it on CreateRole and
PutRolePolicy) caps it at the environment's own secret prefix plus the shared one, by the
role's `fargate-env:environment` tag (aws:PrincipalTag).

IAM is global: the role's name carries the region (`fenv-<env>-exec-<region>`, at most 45 of
IAM's 64 characters), its path the deployment (`/fargate-env/<stack>/`), so deployments in
other regions or stacks never meet it.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from fargate_env import containers, naming, settings
from fargate_env.aws import client, region
from fargate_env.errors import ResourceConflict, error_code, or_none_on
from fargate_env.payloads import Created, Deleted, NormalisedSpec

PATH_ENV: Final = "EXECUTION_ROLE_PATH"
BOUNDARY_ENV: Final = "EXECUTION_ROLE_BOUNDARY_ARN"
SECRETS_KMS_KEYS_ENV: Final = "SECRETS_KMS_KEY_ARNS"
POLICY_NAME: Final = "pull-images-write-logs-read-secrets"
ECR_PULL: Final = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
)
#: <account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>[:tag|@digest]
_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[a-z0-9._/-]+?)(?::[\w.-]+|@sha256:[0-9a-f]{64})?$"
)
#: A Secrets Manager secret ARN ends with "-" and six random characters; ECS accepts it without.
_SECRET_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")


def role_name(env: str) -> str:
    return f"{naming.PREFIX}-{env}-exec-{region()}"


def _path() -> str:
    return settings.get(PATH_ENV) or f"/fargate-env/{naming.deployment()}/"


def _boundary() -> str:
    return settings.require(BOUNDARY_ENV)


def _partition_and_account() -> tuple[str, str]:
    """From the boundary policy's ARN (arn:<partition>:iam::<account>:policy/...)."""
    parts = _boundary().split(":")
    return parts[1], parts[4]


def ecr_repository_arn(image: str) -> str | None:
    """The ECR repository an image is pulled from (None: not an ECR image)."""
    match = _ECR_IMAGE.fullmatch(image)
    if not match:
        return None
    if image.split("/", 1)[0].endswith(".cn"):
        partition = "aws-cn"
    else:
        partition = "aws-us-gov" if match["region"].startswith("us-gov-") else "aws"
    return (
        f"arn:{partition}:ecr:{match['region']}:{match['account']}:repository/{match['repository']}"
    )


def secret_resources(reference: str) -> list[str]:
    """The ARNs IAM sees for a secret reference: an SSM parameter as it is; a Secrets Manager
    secret without ECS's json-key suffix, and with its random suffix when the spec left it out
    (IAM's documented `-??????` wildcard)."""
    if reference.split(":")[2] == "ssm":
        return [reference]
    arn = ":".join(reference.split(":")[:7])
    return [arn] if _SECRET_SUFFIX.search(arn) else [arn, f"{arn}-??????"]


def policy(spec: NormalisedSpec, log_group: str) -> dict[str, Any]:
    """Exactly what the environment's tasks need of their execution role."""
    partition, account = _partition_and_account()
    log_group_arn = f"arn:{partition}:logs:{region()}:{account}:log-group:{log_group}"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "WriteTheEnvironmentsLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{log_group_arn}:*",
        }
    ]
    repositories = sorted(
        {arn for image in containers.images(spec).values() if (arn := ecr_repository_arn(image))}
    )
    if repositories:
        statements += [
            {
                "Sid": "EcrAuthorizationTokenIsNotResourceScoped",
                "Effect": "Allow",
                "Action": "ecr:GetAuthorizationToken",
                "Resource": "*",
            },
            {
                "Sid": "PullTheImages",
                "Effect": "Allow",
                "Action": list(ECR_PULL),
                "Resource": repositories,
            },
        ]
    references = sorted(set(containers.secret_references(spec).values()))
    parameters = [ref for ref in references if ref.split(":")[2] == "ssm"]
    secrets = sorted(
        {arn for ref in references if ref not in parameters for arn in secret_resources(ref)}
    )
    if parameters:
        statements.append(
            {
                "Sid": "ReadTheParameters",
                "Effect": "Allow",
                "Action": "ssm:GetParameters",
                "Resource": parameters,
            }
        )
    if secrets:
        statements.append(
            {
                "Sid": "ReadTheSecrets",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": secrets,
            }
        )
    keys = [key.strip() for key in settings.get(SECRETS_KMS_KEYS_ENV, "").split(",") if key.strip()]
    if references and keys:
        statements.append(
            {
                "Sid": "DecryptTheSecretsThroughTheirServices",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": keys,
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": [
                            f"ssm.{region()}.amazonaws.com",
                            f"secretsmanager.{region()}.amazonaws.com",
                        ]
                    }
                },
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def trust_policy() -> dict[str, Any]:
    """Only ECS tasks of this account assume it."""
    account = _partition_and_account()[1]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        ],
    }


def _get(name: str) -> dict[str, Any] | None:
    found = or_none_on(("NoSuchEntity",), lambda: client("iam").get_role(RoleName=name)["Role"])
    return None if found is None else dict(found)


def _owned(role: dict[str, Any], env: str) -> bool:
    return role.get("Path") == _path() and naming.owned_by(
        naming.from_key_value_list(role.get("Tags")), env
    )


def ensure(spec: NormalisedSpec, log_group: str) -> Created:
    """The environment's execution role with the spec's policy (created, or brought up to date
    when a resumed provisioning changed the spec)."""
    env = spec["name"]
    name = role_name(env)
    iam = client("iam")
    role = _get(name)
    if role is not None and not _owned(role, env):
        naming.require_owned(
            "execution role", name, naming.from_key_value_list(role.get("Tags")), env
        )
        raise ResourceConflict(
            f"execution role {name!r} already exists under the path {role.get('Path')}, not "
            f"{_path()}: it is not this deployment's; fargate-env will neither adopt nor delete "
            "it. Remove or rename it, or choose another environment name."
        )
    if role is None:
        try:
            role = iam.create_role(
                RoleName=name,
                Path=_path(),
                AssumeRolePolicyDocument=json.dumps(trust_policy()),
                PermissionsBoundary=_boundary(),
                Description=f"fargate-env {naming.deployment()}: execution role of {env}",
                Tags=naming.as_key_value_list(naming.environment_tags(env, spec["tags"])),
            )["Role"]
        except Exception as exc:
            if error_code(exc) != "EntityAlreadyExists":
                raise
            return ensure(spec, log_group)  # a retry of this step created it meanwhile
    iam.put_role_policy(
        RoleName=name, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(policy(spec, log_group))
    )
    return {"name": name, "arn": role["Arn"]}


def find(env: str) -> str | None:
    """The environment's execution role (its name), when it exists and is ours."""
    role = _get(role_name(env))
    return role_name(env) if role is not None and _owned(role, env) else None


def delete(env: str) -> Deleted:
    """Its inline policies, then the role (IAM refuses to delete a role that has any)."""
    name = role_name(env)
    role = _get(name)
    if role is None or not _owned(role, env):
        return {"deleted": []}
    iam = client("iam")
    try:
        for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
        iam.delete_role(RoleName=name)
    except Exception as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
    return {"deleted": [role["Arn"]]}
