"""Protected previews on the embedded AWS: a dedicated environment behind OIDC or Cognito sign-in
(the HTTPS listener authenticates, then forwards; an anonymous request is sent to the identity
provider), the client secret read by the step and found in no execution's history, bad configs
refused naming the field before anything exists, shared mode refused on a deployment without a
gateway domain, an update that would change the authentication refused, and nothing left."""

from __future__ import annotations

import json
from typing import Any

import pytest

from embedded_aws import prerequisites
from embedded_aws.emulator import ACCOUNT_ID, EmbeddedAWS, Execution
from fargate_env import endpoint

REGION = "us-east-1"
CERTIFICATE = f"arn:aws:acm:{REGION}:{ACCOUNT_ID}:certificate/00000000-0000-4000-8000-0000000000a1"
HTTPS = {"port": 443, "protocol": "HTTPS", "certificate_arn": CERTIFICATE}
REDIRECT = {"port": 80, "protocol": "HTTP", "redirect_to_https": True}
IDP = "https://idp.example.com"
USER_POOL = f"arn:aws:cognito-idp:{REGION}:{ACCOUNT_ID}:userpool/{REGION}_Previews1"


def client_secret(aws: EmbeddedAWS, env: str, value: str) -> str:
    """The environment's OIDC client secret in Secrets Manager (its own folder): its ARN."""
    created = aws.client("secretsmanager").create_secret(
        Name=f"fargate-env/{env}/oidc-client", SecretString=value
    )
    return str(created["ARN"])


def oidc(secret_arn: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": "oidc",
        "issuer": IDP,
        "authorization_endpoint": f"{IDP}/authorize",
        "token_endpoint": f"{IDP}/token",
        "user_info_endpoint": f"{IDP}/userinfo",
        "client_id": "preview-client",
        "client_secret_arn": secret_arn,
        **fields,
    }


def cognito(**fields: Any) -> dict[str, Any]:
    return {
        "type": "cognito",
        "user_pool_arn": USER_POOL,
        "user_pool_client_id": "previewclient1",
        "user_pool_domain": "previews",
        **fields,
    }


def protected(
    env: str, auth: dict[str, Any], *listeners: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    lb = {"id": "web", "listeners": list(listeners or [HTTPS, REDIRECT]), "authentication": auth}
    return {"name": env, "load_balancers": [lb], **fields}


def default_actions(aws: EmbeddedAWS, env: str) -> dict[int, list[dict[str, Any]]]:
    """Port -> the default actions of each listener of the environment's load balancer, by
    their Order."""
    elbv2 = aws.client("elbv2")
    lb = elbv2.describe_load_balancers(Names=[f"fenv-{env}-web"])["LoadBalancers"][0]
    listeners = elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    return {
        item["Port"]: sorted(item["DefaultActions"], key=lambda action: action.get("Order", 0))
        for item in listeners
    }


def secret_in_history(aws: EmbeddedAWS, execution: Execution, value: str) -> list[str]:
    """The types of the events of `execution`'s history that carry `value`."""
    return [
        event["type"]
        for event in aws.history(execution.arn)
        if value in json.dumps(event, default=str)
    ]


def refusal(execution: Execution) -> str:
    assert execution.status == "FAILED", execution.output
    return str(json.loads(execution.cause or "{}").get("message"))


def test_oidc_on_a_dedicated_environment_signs_in_before_the_service_and_leaves_nothing(
    embedded: EmbeddedAWS, env_name, tmp_path
):
    # Given the environment's client secret in Secrets Manager and an HTTPS certificate
    value = f"client-secret-{env_name}-never-in-history"
    secret_arn = client_secret(embedded, env_name, value)
    spec = prerequisites.provide(embedded, protected(env_name, oidc(secret_arn)), tmp_path)

    # When it is provisioned
    provision = embedded.provision(spec)

    # Then the HTTPS listener authenticates first and forwards second; port 80 redirects
    assert provision.status == "SUCCEEDED", provision.cause
    actions = default_actions(embedded, env_name)
    assert [(a["Type"], a.get("Order")) for a in actions[443]] == [
        ("authenticate-oidc", 1),
        ("forward", 2),
    ]
    config = actions[443][0]["AuthenticateOidcConfig"]
    assert config["AuthorizationEndpoint"] == f"{IDP}/authorize"
    assert config["OnUnauthenticatedRequest"] == "authenticate"
    assert [a["Type"] for a in actions[80]] == ["redirect"]
    # the check counted the sign-in redirect as the answer, the targets healthy behind it
    [check] = provision.output["verification"]
    assert check["status"] == 302
    assert "protected" in check
    # and an anonymous request from outside is sent to the identity provider
    anonymous = endpoint.get(provision.output["url"], timeout=5)
    assert anonymous["status"] == 302
    assert anonymous["location"].startswith(f"{IDP}/authorize?client_id=preview-client")
    # the secret's value went from Secrets Manager to ELBv2 only: in no event of the history
    assert secret_in_history(embedded, provision, value) == []
    assert secret_arn in json.dumps(embedded.history(provision.arn), default=str)

    # When its image is updated, the same authentication kept
    new_image = {**spec, "container": {"image": "public.ecr.aws/nginx/nginx:1.27"}}
    updated = embedded.update(new_image)
    # Then the update's own check accepts the protected answer; the listener is unchanged
    assert updated.status == "SUCCEEDED", updated.cause
    assert secret_in_history(embedded, updated, value) == []
    assert default_actions(embedded, env_name)[443][0]["Type"] == "authenticate-oidc"

    # When an update would change the authentication
    changed = protected(env_name, oidc(secret_arn, client_id="another-client"))
    refused = embedded.update({**changed, "load_balancers": changed["load_balancers"]})
    # Then it is refused as infrastructure, naming the field, and nothing changed
    assert "load_balancers[0].authentication.client_id" in refusal(refused)
    after = default_actions(embedded, env_name)[443][0]["AuthenticateOidcConfig"]
    assert after["ClientId"] == "preview-client"

    # When it is torn down: nothing is left (the listeners went with the load balancer)
    teardown = embedded.teardown(env_name)
    assert teardown.status == "SUCCEEDED", teardown.cause
    assert secret_in_history(embedded, teardown, value) == []
    assert embedded.remaining(env_name) == []


@pytest.mark.parametrize(
    ("behaviour", "status", "location"),
    [
        ("authenticate", 302, "https://previews.auth.us-east-1.amazoncognito.com/oauth2/authorize"),
        ("deny", 401, None),
    ],
)
def test_cognito_on_a_dedicated_environment_redirects_or_denies_an_anonymous_request(
    embedded: EmbeddedAWS, env_name, tmp_path, behaviour, status, location
):
    spec = protected(env_name, cognito(on_unauthenticated_request=behaviour), HTTPS)
    provision = embedded.provision(prerequisites.provide(embedded, spec, tmp_path))

    assert provision.status == "SUCCEEDED", provision.cause
    actions = default_actions(embedded, env_name)[443]
    assert [a["Type"] for a in actions] == ["authenticate-cognito", "forward"]
    assert actions[0]["AuthenticateCognitoConfig"]["UserPoolArn"] == USER_POOL
    assert provision.output["verification"][0]["status"] == status
    anonymous = endpoint.get(provision.output["url"], timeout=5)
    assert anonymous["status"] == status
    if location:
        assert anonymous["location"].startswith(location)

    assert embedded.teardown(env_name).status == "SUCCEEDED"
    assert embedded.remaining(env_name) == []


def test_bad_authentication_is_refused_naming_the_field_before_anything_is_created(
    embedded: EmbeddedAWS, env_name, tmp_path
):
    own = client_secret(embedded, env_name, "own")
    others = client_secret(embedded, f"{env_name[:16]}-x", "another environment's")
    missing = own.replace("oidc-client", "nothing-here")
    prerequisites.provide(embedded, protected(env_name, oidc(own)), tmp_path)  # the certificate
    cases = {
        "load_balancers[0].authentication: needs an HTTPS listener": protected(
            env_name, oidc(own), {"port": 80, "protocol": "HTTP"}
        ),
        "load_balancers[0].authentication: listeners[1] (HTTP 8080)": protected(
            env_name, oidc(own), HTTPS, {"port": 8080, "protocol": "HTTP"}
        ),
        "load_balancers[0].authentication.client_secret_arn: not one of": protected(
            env_name, oidc(others)
        ),
        "load_balancers[0].authentication.client_secret_arn: no Secrets Manager secret": (
            protected(env_name, oidc(missing))
        ),
        "load_balancers[0].authentication.issuer: must be a full https:// URL": protected(
            env_name, oidc(own, issuer="http://idp.example.com")
        ),
        "load_balancers[0].authentication: not in shared mode on this deployment": {
            "name": env_name,
            "mode": "shared",
            "load_balancers": [{"id": "web", "authentication": oidc(own)}],
        },
    }
    for expected, spec in cases.items():
        message = refusal(embedded.provision(spec))
        assert expected in message, message
        assert embedded.remaining(env_name) == [], expected
