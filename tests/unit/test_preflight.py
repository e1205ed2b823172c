"""What the spec refers to must exist before anything is created: each missing reference is an
InvalidSpec naming its field."""

from __future__ import annotations

import boto3
import pytest

from fargate_env import preflight
from fargate_env import spec as spec_model
from fargate_env.errors import InvalidSpec

ACM = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000001"
SSM = "arn:aws:ssm:us-east-1:123456789012:parameter/fargate-env/app/db"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:fargate-env/app/token-AbCdEf"


def referring_spec(file_system_id: str = "fs-0123456789abcdef0") -> dict:
    return spec_model.normalise(
        spec_model.parse(
            {
                "name": "refs",
                "container": {
                    "secrets": {"DB": SSM, "TOKEN": SECRET},
                    "volumes": [
                        {
                            "name": "shared",
                            "container_path": "/mnt",
                            "efs": {"file_system_id": file_system_id},
                        }
                    ],
                },
                "load_balancers": [
                    {
                        "listeners": [
                            {"port": 443, "protocol": "HTTPS", "certificate_arn": ACM},
                            {"port": 80, "protocol": "HTTP", "redirect_to_https": True},
                        ]
                    }
                ],
            }
        )
    )


def test_every_missing_reference_is_named(aws):
    with pytest.raises(InvalidSpec) as raised:
        preflight.check(referring_spec())

    message = str(raised.value)
    assert "(4 problems)" in message
    for field in (
        "load_balancers[0].listeners[0].certificate_arn: no such ACM certificate",
        "container.secrets.DB: no SSM parameter /fargate-env/app/db",
        "container.secrets.TOKEN: no Secrets Manager secret",
        "container.volumes[0].efs.file_system_id: no EFS file system",
    ):
        assert field in message


def test_existing_references_pass_and_the_network_is_resolved(aws, tmp_path):
    from embedded_aws.standin import _self_signed_certificate

    cert, key = _self_signed_certificate(tmp_path)
    certificate = boto3.client("acm", region_name="us-east-1").import_certificate(
        Certificate=cert.read_bytes(), PrivateKey=key.read_bytes()
    )["CertificateArn"]
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/fargate-env/app/db", Value="x", Type="SecureString"
    )
    secret = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="fargate-env/app/token", SecretString="x"
    )["ARN"]
    system = boto3.client("efs", region_name="us-east-1").create_file_system(CreationToken="t")
    spec = referring_spec(system["FileSystemId"])
    spec["load_balancers"][0]["listeners"][0]["certificate_arn"] = certificate
    spec["container"]["secrets"]["TOKEN"] = secret

    network = preflight.check(spec)

    assert network["vpc_id"].startswith("vpc-")
    assert len(network["subnet_ids"]) >= 2


def test_a_certificate_in_another_region_is_refused(aws):
    spec = spec_model.normalise(
        spec_model.parse(
            {
                "name": "refs",
                "load_balancers": [
                    {
                        "listeners": [
                            {
                                "port": 443,
                                "protocol": "HTTPS",
                                "certificate_arn": ACM.replace("us-east-1", "eu-west-1"),
                            }
                        ]
                    }
                ],
            }
        )
    )

    with pytest.raises(InvalidSpec, match="the certificate is in eu-west-1"):
        preflight.check(spec)


def https_spec(certificate_arn: str) -> dict:
    listener = {"port": 443, "protocol": "HTTPS", "certificate_arn": certificate_arn}
    return spec_model.normalise(
        spec_model.parse({"name": "refs", "load_balancers": [{"listeners": [listener]}]})
    )


@pytest.mark.parametrize("path", ["/", "/team/web/"])
def test_an_iam_server_certificate_is_looked_up_by_its_bare_name(aws, path):
    # Given an IAM server certificate, at the root or under a path
    uploaded = boto3.client("iam", region_name="us-east-1").upload_server_certificate(
        ServerCertificateName="site", CertificateBody="body", PrivateKey="key", Path=path
    )["ServerCertificateMetadata"]["Arn"]

    # When / Then the spec naming its ARN passes the preflight
    assert preflight.check(https_spec(uploaded))["vpc_id"].startswith("vpc-")


def test_an_iam_server_certificate_under_another_path_is_refused(aws):
    boto3.client("iam", region_name="us-east-1").upload_server_certificate(
        ServerCertificateName="site", CertificateBody="body", PrivateKey="key", Path="/team/"
    )
    wrong = "arn:aws:iam::123456789012:server-certificate/other/site"

    with pytest.raises(InvalidSpec, match=r"certificate_arn: the IAM server certificate 'site'"):
        preflight.check(https_spec(wrong))


def _wildcard(tmp_path, domain: str) -> str:
    from embedded_aws.standin import _self_signed_certificate

    cert, key = _self_signed_certificate(tmp_path, f"*.{domain}")
    return boto3.client("acm", region_name="us-east-1").import_certificate(
        Certificate=cert.read_bytes(), PrivateKey=key.read_bytes()
    )["CertificateArn"]


def shared_spec(name: str = "pr-1") -> dict:
    return spec_model.normalise(spec_model.parse({"name": name, "mode": "shared"}))


def test_shared_mode_with_a_domain_needs_its_wildcard_certificate_and_zone(aws, tmp_path):
    from fargate_env import settings

    zone = boto3.client("route53").create_hosted_zone(Name="example.test", CallerReference="z")
    zone_id = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
    values = {"GATEWAY_DOMAIN": "preview.example.test", "GATEWAY_HOSTED_ZONE_ID": zone_id}

    # The wildcard of the domain, in a zone of a parent domain: accepted
    good = _wildcard(tmp_path, "preview.example.test")
    with settings.scope({**values, "GATEWAY_CERTIFICATE_ARN": good}):
        assert preflight.check(shared_spec())["vpc_id"].startswith("vpc-")
        # (a dedicated spec never meets the gateways' settings)
        preflight.check(spec_model.normalise(spec_model.parse({"name": "pr-2"})))

    # A certificate of another domain, an unknown one, none; a zone of another domain
    other = _wildcard(tmp_path, "other.test")
    for certificate, problem in (
        (other, "GatewayCertificateArn: it names *.other.test, not *.preview.example.test"),
        (ACM, "GatewayCertificateArn: no such ACM certificate"),
        ("", "GatewayCertificateArn: required with GatewayDomain"),
    ):
        scoped = settings.scope({**values, "GATEWAY_CERTIFICATE_ARN": certificate})
        with scoped, pytest.raises(InvalidSpec, match=problem.replace("*", r"\*")):
            preflight.check(shared_spec())
    elsewhere = boto3.client("route53").create_hosted_zone(Name="example.org", CallerReference="o")
    wrong_zone = {
        **values,
        "GATEWAY_CERTIFICATE_ARN": good,
        "GATEWAY_HOSTED_ZONE_ID": elsewhere["HostedZone"]["Id"].rsplit("/", 1)[-1],
    }
    with settings.scope(wrong_zone), pytest.raises(InvalidSpec, match="GatewayHostedZoneId"):
        preflight.check(shared_spec())
    scoped = settings.scope({**wrong_zone, "GATEWAY_HOSTED_ZONE_ID": "ZNOTTHERE"})
    with scoped, pytest.raises(InvalidSpec, match="GatewayHostedZoneId: no hosted zone ZNOTTHERE"):
        preflight.check(shared_spec())


@pytest.mark.parametrize(
    ("names", "host", "covered"),
    [
        (["*.preview.example.test"], "pr-1.preview.example.test", True),
        (["pr-1.preview.example.test"], "pr-1.preview.example.test", True),
        (["*.example.test"], "pr-1.preview.example.test", False),  # one label only
        (["*.preview.example.test"], "preview.example.test", False),
        (["*.PREVIEW.example.test"], "pr-1.preview.example.test", True),
    ],
)
def test_a_wildcard_certificate_covers_one_label(names, host, covered):
    assert preflight._covers(names, host) is covered
