"""What a spec refers to and a user's account would already have: certificates, secrets (and
registry credentials, and a protected load balancer's OIDC client secret), EFS file systems, the
application's task role. The samples name example ids; here they are created in the embedded
AWS with exactly those ids, so every sample input runs as written (the demo's and the
emulator's).

moto picks its own ids (random certificate ARNs, secret suffixes, file system ids): each created
resource is re-keyed in moto's backend to the id the spec names.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from embedded_aws import iam_policy
from embedded_aws.emulator import EmbeddedAWS
from embedded_aws.standin import _self_signed_certificate
from embedded_aws.template import REPO_ROOT

SAMPLE_INPUTS = REPO_ROOT / "events" / "inputs"


def _arn_parts(arn: str) -> tuple[str, str, str, str]:
    """(service, region, account, resource) of an ARN."""
    _, _, service, region, account, resource = arn.split(":", 5)
    return service, region, account, resource


def _certificate(aws: EmbeddedAWS, arn: str, directory: Path) -> None:
    service, region, account, resource = _arn_parts(arn)
    cert, key = _self_signed_certificate(directory)
    if service == "iam":
        iam = aws.client("iam")
        name = resource.split("/")[-1]
        if not any(
            item["ServerCertificateName"] == name
            for item in iam.list_server_certificates()["ServerCertificateMetadataList"]
        ):
            iam.upload_server_certificate(
                ServerCertificateName=name,
                CertificateBody=cert.read_text(),
                PrivateKey=key.read_text(),
            )
        return
    from moto.acm.models import acm_backends

    backend = acm_backends[account][region]
    if arn in backend._certificates:
        return
    imported = aws.client("acm").import_certificate(
        Certificate=cert.read_bytes(), PrivateKey=key.read_bytes()
    )["CertificateArn"]
    bundle = backend._certificates.pop(imported)
    bundle.arn = arn
    backend._certificates[arn] = bundle


def gateway_domain(aws: EmbeddedAWS, domain: str, directory: Path) -> dict[str, str]:
    """What a deployment routing shared mode by host name has beforehand: an ACM certificate of
    `*.<domain>` (imported: moto's requested ones wait for a validation no one answers) and a
    public hosted zone of the domain. Returns the template parameters naming them."""
    cert, key = _self_signed_certificate(directory, f"*.{domain}")
    certificate = aws.client("acm").import_certificate(
        Certificate=cert.read_bytes(), PrivateKey=key.read_bytes()
    )["CertificateArn"]
    zone = aws.client("route53").create_hosted_zone(Name=domain, CallerReference=domain)
    return {
        "GatewayDomain": domain,
        "GatewayCertificateArn": str(certificate),
        "GatewayHostedZoneId": str(zone["HostedZone"]["Id"]).rsplit("/", 1)[-1],
    }


def _task_role(aws: EmbeddedAWS, arn: str) -> None:
    """An application's role, under its path, that ECS tasks may assume."""
    path, _, name = _arn_parts(arn)[3].removeprefix("role").rpartition("/")
    iam = aws.client("iam")
    if any(role["Arn"] == arn for role in iam.list_roles(PathPrefix=path + "/")["Roles"]):
        return
    trust = iam_policy.trusting("ecs-tasks.amazonaws.com")
    iam.create_role(RoleName=name, Path=path + "/", AssumeRolePolicyDocument=json.dumps(trust))


def _secret(aws: EmbeddedAWS, reference: str, value: str = "example") -> None:
    # ECS's suffix (:json-key:version-stage:version-id) is not part of the secret's ARN.
    arn = ":".join(reference.split(":")[:7])
    service, region, account, resource = _arn_parts(arn)
    if service == "ssm":
        aws.client("ssm").put_parameter(
            Name=resource.removeprefix("parameter"),
            Value=value,
            Type="SecureString",
            Overwrite=True,
        )
        return
    from moto.secretsmanager.models import secretsmanager_backends

    backend = secretsmanager_backends[account][region]
    if arn in backend.secrets:
        return
    name = resource.removeprefix("secret:").rsplit("-", 1)[0]  # the name, without the suffix
    aws.client("secretsmanager").create_secret(Name=name, SecretString=value)
    backend.secrets[name].arn = arn


def _file_system(aws: EmbeddedAWS, efs_config: dict[str, Any]) -> None:
    from moto.efs.models import efs_backends

    backend = efs_backends[aws.plane.account_id][aws.region]
    system_id = efs_config["file_system_id"]
    if system_id not in backend.file_systems_by_id:
        created = aws.client("efs").create_file_system(CreationToken=system_id, Encrypted=True)
        system = backend.file_systems_by_id.pop(created["FileSystemId"])
        system.file_system_id = system_id
        system.file_system_arn = system.file_system_arn.rsplit("/", 1)[0] + f"/{system_id}"
        backend.file_systems_by_id[system_id] = system
    access_point_id = efs_config.get("access_point_id")
    if access_point_id and access_point_id not in backend.access_points:
        created = aws.client("efs").create_access_point(
            ClientToken=access_point_id, FileSystemId=system_id
        )
        point = backend.access_points.pop(created["AccessPointId"])
        point.access_point_id = access_point_id
        point.access_point_arn = point.access_point_arn.rsplit("/", 1)[0] + f"/{access_point_id}"
        backend.access_points[access_point_id] = point


def provide(aws: EmbeddedAWS, spec: dict[str, Any], workdir: Path | None = None) -> dict[str, Any]:
    """Create what `spec` refers to, with the ids it names (idempotent); returns `spec`, which
    runs unchanged. `workdir` keeps the certificates' files (a temporary folder otherwise)."""
    with tempfile.TemporaryDirectory(prefix="fargate-env-prerequisites-") as directory:
        for lb in spec.get("load_balancers") or []:
            for listener in lb.get("listeners") or []:
                if listener.get("certificate_arn"):
                    _certificate(aws, listener["certificate_arn"], workdir or Path(directory))
            client_secret = (lb.get("authentication") or {}).get("client_secret_arn")
            if client_secret:
                _secret(aws, client_secret, "example-client-secret")
    container = spec.get("container") or {}
    for each in [container, *(spec.get("sidecars") or [])]:
        for reference in (each.get("secrets") or {}).values():
            _secret(aws, reference)
        if each.get("registry_credentials_arn"):
            login = json.dumps({"username": "fargate-env", "password": "example"})
            _secret(aws, each["registry_credentials_arn"], login)
    for volume in container.get("volumes") or []:
        if volume.get("efs"):
            _file_system(aws, volume["efs"])
    if container.get("task_role_arn"):
        _task_role(aws, container["task_role_arn"])
    return spec


def provide_for_samples(aws: EmbeddedAWS, directory: Path = SAMPLE_INPUTS) -> list[str]:
    """What every sample provisioning input refers to; the samples' file names."""
    provided = []
    for path in sorted(directory.glob("*.json")):
        document = json.loads(path.read_text())
        if isinstance(document, dict) and isinstance(document.get("spec"), dict):
            provide(aws, document["spec"])
            provided.append(path.name)
    return provided
