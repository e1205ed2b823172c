"""Everything the spec refers to that must already exist, checked before anything is created:
the network, the listeners' certificates, the secrets, the EFS file systems. A wrong reference
is an InvalidSpec naming the field, not a half-built environment rolled back later."""

from __future__ import annotations

from typing import Any

from fargate_env import network
from fargate_env.aws import client, region
from fargate_env.errors import error_code, invalid_spec

_NOT_FOUND = (
    "ResourceNotFoundException",
    "FileSystemNotFound",
    "AccessPointNotFound",
    "ParameterNotFound",
    "NoSuchEntity",
)


def _certificate_problem(arn: str) -> str | None:
    parts = arn.split(":")
    if parts[2] == "iam":
        name = arn.split("/")[-1]
        try:
            client("iam").get_server_certificate(ServerCertificateName=name)
        except Exception as exc:
            if error_code(exc) in _NOT_FOUND:
                return "no such IAM server certificate"
            raise
        return None
    if parts[3] != region():
        return f"the certificate is in {parts[3]}; the load balancer is in {region()}"
    try:
        described = client("acm").describe_certificate(CertificateArn=arn)["Certificate"]
    except Exception as exc:
        if error_code(exc) in _NOT_FOUND:
            return "no such ACM certificate"
        raise
    status = described.get("Status", "ISSUED")
    return None if status == "ISSUED" else f"the certificate is {status}, not ISSUED"


def _certificates(spec: dict[str, Any]) -> list[str]:
    problems = []
    for i, lb in enumerate(spec["load_balancers"]):
        for j, listener in enumerate(lb["listeners"]):
            arn = listener.get("certificate_arn")
            if arn:
                problem = _certificate_problem(arn)
                if problem:
                    problems.append(
                        f"load_balancers[{i}].listeners[{j}].certificate_arn: {problem}"
                    )
    return problems


def _secret_problem(reference: str) -> str | None:
    if reference.split(":")[2] == "ssm":
        name = reference.split(":parameter", 1)[1]
        found = client("ssm").describe_parameters(
            ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}]
        )["Parameters"]
        return None if found else f"no SSM parameter {name}"
    # A Secrets Manager reference may end with ECS's json-key:version-stage:version-id selector.
    secret_arn = ":".join(reference.split(":")[:7])
    try:
        client("secretsmanager").describe_secret(SecretId=secret_arn)
    except Exception as exc:
        if error_code(exc) in _NOT_FOUND:
            return f"no Secrets Manager secret {secret_arn}"
        raise
    return None


def _secrets(spec: dict[str, Any]) -> list[str]:
    problems = []
    for name, reference in sorted(spec["container"]["secrets"].items()):
        problem = _secret_problem(reference)
        if problem:
            problems.append(f"container.secrets.{name}: {problem}")
    return problems


def _file_systems(spec: dict[str, Any]) -> list[str]:
    problems = []
    efs = None
    for i, volume in enumerate(spec["container"]["volumes"]):
        config = volume.get("efs")
        if not config:
            continue
        efs = efs or client("efs")
        field = f"container.volumes[{i}].efs"
        try:
            efs.describe_file_systems(FileSystemId=config["file_system_id"])
        except Exception as exc:
            if error_code(exc) not in _NOT_FOUND:
                raise
            problems.append(
                f"{field}.file_system_id: no EFS file system {config['file_system_id']}"
            )
            continue
        if config.get("access_point_id"):
            try:
                efs.describe_access_points(AccessPointId=config["access_point_id"])
            except Exception as exc:
                if error_code(exc) not in _NOT_FOUND:
                    raise
                problems.append(
                    f"{field}.access_point_id: no access point {config['access_point_id']}"
                )
    return problems


def check(spec: dict[str, Any]) -> dict[str, Any]:
    """The resolved network, once every reference of the spec is known to exist."""
    resolved = network.resolve(spec)
    problems = [*_certificates(spec), *_secrets(spec), *_file_systems(spec)]
    if problems:
        raise invalid_spec(problems)
    return resolved
