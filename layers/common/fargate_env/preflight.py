"""Everything the spec refers to that must already exist, checked before anything is created:
the network, the listeners' certificates, the secrets, the EFS file systems, the task role. A
wrong reference is an InvalidSpec naming the field, not a half-built environment rolled back
later."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable
from typing import Any

from fargate_env import authentication, gateways, network
from fargate_env.aws import client, region
from fargate_env.errors import invalid_spec, or_none_on
from fargate_env.payloads import Network, NormalisedSpec

_NOT_FOUND = (
    "ResourceNotFoundException",
    "FileSystemNotFound",
    "AccessPointNotFound",
    "ParameterNotFound",
    "NoSuchEntity",
    "NoSuchHostedZone",
)


def _answer(call: Callable[..., Any], **request: Any) -> Any | None:
    """The call's answer, or None when AWS says the thing does not exist."""
    return or_none_on(_NOT_FOUND, lambda: call(**request))


def _server_certificate_problem(arn: str) -> str | None:
    """IAM wants the certificate's bare name (pattern [\\w+=,.@-]+): the ARN's resource is
    `server-certificate/<path>/<name>`, and the name is its last segment (IAM API reference,
    GetServerCertificate). Names are unique in the account, so the answer's ARN must be ours."""
    name = arn.split(":", 5)[5].rsplit("/", 1)[-1]
    found = _answer(client("iam").get_server_certificate, ServerCertificateName=name)
    if not found:
        return f"no such IAM server certificate {name!r}"
    actual = found["ServerCertificate"]["ServerCertificateMetadata"]["Arn"]
    return None if actual == arn else f"the IAM server certificate {name!r} is {actual}"


def _certificate_problem(arn: str) -> str | None:
    parts = arn.split(":")
    if parts[2] == "iam":
        return _server_certificate_problem(arn)
    if parts[3] != region():
        return f"the certificate is in {parts[3]}; the load balancer is in {region()}"
    described = _answer(client("acm").describe_certificate, CertificateArn=arn)
    if described is None:
        return "no such ACM certificate"
    status = described["Certificate"].get("Status", "ISSUED")
    return None if status == "ISSUED" else f"the certificate is {status}, not ISSUED"


def _certificates(spec: NormalisedSpec) -> list[str]:
    problems = []
    for i, lb in enumerate(spec["load_balancers"]):
        for j, listener in enumerate(lb["listeners"]):
            arn = listener.get("certificate_arn")
            problem = _certificate_problem(arn) if arn else None
            if problem:
                problems.append(f"load_balancers[{i}].listeners[{j}].certificate_arn: {problem}")
    return problems


def _covers(names: list[str], host: str) -> bool:
    """Whether a certificate naming `names` covers `host`: exactly, or by a wildcard of one
    label (`*.example.com` covers `a.example.com`, not `a.b.example.com`: RFC 6125 6.4.3, as
    ACM issues and browsers check them)."""
    label, _, parent = host.partition(".")
    return any(name.lower() in (host, f"*.{parent}") for name in names if label)


def _gateway_routing(spec: NormalisedSpec) -> list[str]:
    """Shared mode with a domain: the deployment's wildcard certificate (an ACM certificate of
    this region, ISSUED, covering `<name>.<domain>`) and its hosted zone (one for the domain or
    a parent of it): a wrong setting fails here, naming it, before any gateway is made."""
    if spec.get("mode") != "shared":
        return []
    settings = gateways.Settings.load()
    if settings.routing != gateways.HOST:
        return []
    problems = []
    arn = settings.certificate_arn
    host = gateways.host_name(spec["name"], settings)
    if not arn:
        problems.append("GatewayCertificateArn: required with GatewayDomain (a *.<domain> one)")
    elif arn.split(":")[2] != "acm":
        problems.append(f"GatewayCertificateArn: {arn} is not an ACM certificate")
    else:
        problem = _certificate_problem(arn)
        described = None if problem else client("acm").describe_certificate(CertificateArn=arn)
        names = [] if described is None else _certificate_names(described["Certificate"])
        if problem is None and not _covers(names, host):
            problem = f"it names {', '.join(names) or 'no domain'}, not *.{settings.domain}"
        if problem:
            problems.append(f"GatewayCertificateArn: {problem}")
    if settings.hosted_zone_id:
        problem = _hosted_zone_problem(settings.hosted_zone_id, str(settings.domain))
        if problem:
            problems.append(f"GatewayHostedZoneId: {problem}")
    return problems


def _certificate_names(certificate: dict[str, Any]) -> list[str]:
    names = [str(certificate.get("DomainName") or "")]
    names += [str(name) for name in certificate.get("SubjectAlternativeNames") or []]
    return [name for name in dict.fromkeys(names) if name]


def _hosted_zone_problem(zone_id: str, domain: str) -> str | None:
    found = _answer(client("route53").get_hosted_zone, Id=zone_id)
    if found is None:
        return f"no hosted zone {zone_id}"
    zone = str(found["HostedZone"]["Name"]).rstrip(".").lower()
    if domain.lower() != zone and not domain.lower().endswith(f".{zone}"):
        return f"the hosted zone is {zone}, which cannot hold records of {domain}"
    return None


def _secret_problem(reference: str) -> str | None:
    if reference.split(":")[2] == "ssm":
        name = reference.split(":parameter", 1)[1]
        found = client("ssm").describe_parameters(
            ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}]
        )["Parameters"]
        return None if found else f"no SSM parameter {name}"
    # A Secrets Manager reference may end with ECS's json-key:version-stage:version-id selector.
    secret_arn = ":".join(reference.split(":")[:7])
    found = _answer(client("secretsmanager").describe_secret, SecretId=secret_arn)
    return None if found else f"no Secrets Manager secret {secret_arn}"


def _secrets(spec: NormalisedSpec) -> list[str]:
    """Every container's secrets and registry credentials, every load balancer's client secret."""
    problems = []
    for field, reference in authentication.secret_references(spec).items():
        problem = _secret_problem(reference)
        if problem:
            problems.append(f"{field}: {problem}")
    return problems


def _trusts_ecs_tasks(document: Any) -> bool:
    """Whether a trust policy lets ECS tasks assume the role (ECS refuses to start a task whose
    role it cannot assume: "ECS was unable to assume the role")."""
    if isinstance(document, str):
        document = json.loads(urllib.parse.unquote(document))
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        principal = statement.get("Principal") or {}
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        services = services if isinstance(services, list) else [services]
        actions = statement.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        if (
            statement.get("Effect") == "Allow"
            and "ecs-tasks.amazonaws.com" in services
            and "sts:AssumeRole" in actions
        ):
            return True
    return False


def _task_role(spec: NormalisedSpec) -> list[str]:
    arn = spec["container"].get("task_role_arn")
    if not arn:
        return []
    name = arn.rsplit("/", 1)[-1]
    found = _answer(client("iam").get_role, RoleName=name)
    field = "container.task_role_arn"
    if found is None or found["Role"]["Arn"] != arn:
        return [f"{field}: no IAM role {arn}"]
    if not _trusts_ecs_tasks(found["Role"].get("AssumeRolePolicyDocument") or {}):
        return [
            f"{field}: the role's trust policy does not let ecs-tasks.amazonaws.com assume it "
            "(sts:AssumeRole): the tasks could not start"
        ]
    return []


def _file_systems(spec: NormalisedSpec) -> list[str]:
    problems = []
    for i, volume in enumerate(spec["container"]["volumes"]):
        config = volume.get("efs")
        if not config:
            continue
        field = f"container.volumes[{i}].efs"
        efs = client("efs")
        system, access_point = config["file_system_id"], config.get("access_point_id")
        if not _answer(efs.describe_file_systems, FileSystemId=system):
            problems.append(f"{field}.file_system_id: no EFS file system {system}")
        elif access_point and not _answer(efs.describe_access_points, AccessPointId=access_point):
            problems.append(f"{field}.access_point_id: no access point {access_point}")
    return problems


def check(spec: NormalisedSpec) -> Network:
    """The resolved network, once every reference of the spec is known to exist."""
    resolved = network.resolve(gateways.in_gateway_network(spec))
    gateways.check_network(spec, resolved)
    problems = [*_certificates(spec), *_gateway_routing(spec), *_secrets(spec)]
    problems += [*_file_systems(spec), *_task_role(spec)]
    if problems:
        raise invalid_spec(problems)
    return resolved
