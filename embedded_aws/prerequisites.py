"""What a spec refers to and a user's account would already have: certificates, secrets, EFS
file systems. The samples name example ids; here they are created in the embedded AWS and the
spec is pointed at the real ones."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from embedded_aws.emulator import EmbeddedAWS
from embedded_aws.standin import _self_signed_certificate


def _certificate(aws: EmbeddedAWS, directory: Path) -> str:
    cert, key = _self_signed_certificate(directory)
    imported = aws.client("acm").import_certificate(
        Certificate=cert.read_bytes(), PrivateKey=key.read_bytes()
    )
    return str(imported["CertificateArn"])


def provide(aws: EmbeddedAWS, spec: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Create what `spec` refers to; return the spec with the real ids in place."""
    spec = copy.deepcopy(spec)
    for lb in spec.get("load_balancers", []):
        for listener in lb.get("listeners") or []:
            if listener.get("certificate_arn"):
                listener["certificate_arn"] = _certificate(aws, workdir)
    container = spec.get("container", {})
    for name, reference in list(container.get("secrets", {}).items()):
        if reference.split(":")[2] == "ssm":
            parameter = reference.split(":parameter", 1)[1]
            aws.client("ssm").put_parameter(
                Name=parameter, Value="example", Type="SecureString", Overwrite=True
            )
        else:
            secret_name = reference.split(":secret:", 1)[1].rsplit("-", 1)[0]
            secrets = aws.client("secretsmanager")
            try:
                arn = secrets.create_secret(Name=secret_name, SecretString="example")["ARN"]
            except secrets.exceptions.ResourceExistsException:
                arn = secrets.describe_secret(SecretId=secret_name)["ARN"]
            container["secrets"][name] = arn
    for volume in container.get("volumes", []):
        if volume.get("efs"):
            efs = aws.client("efs")
            token = f"{spec['name']}-{volume['name']}"
            try:
                created = efs.create_file_system(CreationToken=token, Encrypted=True)
            except efs.exceptions.FileSystemAlreadyExists:
                created = efs.describe_file_systems(CreationToken=token)["FileSystems"][0]
            volume["efs"]["file_system_id"] = created["FileSystemId"]
    return spec
