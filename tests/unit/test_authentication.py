"""Protected previews (a load balancer's `authentication`): the spec names every bad field before
anything is created, the client secret is held to the deployment's prefixes, the actions put the
authentication before the forward, the endpoint check knows a protected answer, and an update
never changes the authentication in place."""

from __future__ import annotations

from typing import Any

import pytest

from fargate_env import authentication, endpoint, settings, spec, update, validation
from fargate_env.errors import EndpointCheckFailed, InvalidSpec

ACCOUNT = "123456789012"
CERT = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/00000000-0000-4000-8000-000000000001"
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:fargate-env/demo/oidc-AbCdEf"
HTTPS = {"port": 443, "protocol": "HTTPS", "certificate_arn": CERT}
REDIRECT = {"port": 80, "protocol": "HTTP", "redirect_to_https": True}
OIDC: dict[str, Any] = {
    "type": "oidc",
    "issuer": "https://idp.example.com",
    "authorization_endpoint": "https://idp.example.com/authorize",
    "token_endpoint": "https://idp.example.com/token",
    "user_info_endpoint": "https://idp.example.com/userinfo",
    "client_id": "preview-client",
    "client_secret_arn": SECRET,
}
COGNITO: dict[str, Any] = {
    "type": "cognito",
    "user_pool_arn": f"arn:aws:cognito-idp:eu-west-1:{ACCOUNT}:userpool/eu-west-1_AbC123",
    "user_pool_client_id": "abc123",
    "user_pool_domain": "previews",
}
DEPLOYMENT = {
    "ALLOWED_SECRET_ARN_PREFIXES": (
        f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/fargate-env/,"
        f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:fargate-env/"
    ),
    "SHARED_SECRETS_NAME": "_shared",
}


def protected(auth: dict[str, Any], *listeners: dict[str, Any], **fields: Any) -> dict[str, Any]:
    lb: dict[str, Any] = {"listeners": list(listeners or [HTTPS]), "authentication": auth}
    return {"name": "demo", "load_balancers": [{**lb, **fields}]}


def problems(raw: dict[str, Any]) -> str:
    with pytest.raises(InvalidSpec) as raised:
        spec.parse(raw)
    return str(raised.value)


@pytest.mark.parametrize("auth", [OIDC, COGNITO], ids=["oidc", "cognito"])
def test_an_https_load_balancer_takes_either_kind_with_elbv2s_defaults(auth):
    normalised = spec.normalise(spec.parse(protected(auth, HTTPS, REDIRECT)))
    taken = normalised["load_balancers"][0]["authentication"]
    assert taken["type"] == auth["type"]
    assert taken["scope"] == "openid"
    assert taken["session_timeout_seconds"] == 604800
    assert taken["on_unauthenticated_request"] == "authenticate"


@pytest.mark.parametrize(
    ("raw", "path", "words"),
    [
        (protected(OIDC, {"port": 80, "protocol": "HTTP"}), "authentication", "HTTPS listener"),
        (
            protected(OIDC, HTTPS, {"port": 80, "protocol": "HTTP"}),
            "authentication",
            "listeners[1]",
        ),
        (
            {"name": "demo", "load_balancers": [{"type": "network", "authentication": OIDC}]},
            "authentication",
            "network load balancer",
        ),
        (protected({**OIDC, "issuer": "http://idp.example.com"}), "authentication.issuer", "https"),
        (
            protected({**OIDC, "token_endpoint": "idp.example.com/token"}),
            "authentication.token_endpoint",
            "https",
        ),
        (
            protected({**OIDC, "client_secret_arn": "the-secret-itself"}),
            "authentication.client_secret_arn",
            "Secrets Manager",
        ),
        (
            protected({**OIDC, "client_secret_arn": SECRET + ":password::"}),
            "authentication.client_secret_arn",
            "whole value",
        ),
        (
            protected({**OIDC, "session_timeout_seconds": 604801}),
            "authentication.session_timeout_seconds",
            "",
        ),
        (
            protected({**OIDC, "on_unauthenticated_request": "ask"}),
            "authentication.on_unauthenticated",
            "",
        ),
        (
            protected({**COGNITO, "user_pool_arn": "arn:aws:iam::1:role/x"}),
            "authentication.user_pool_arn",
            "",
        ),
        (protected({**OIDC, "type": "saml"}), "authentication.type", "oidc"),
        (protected({**OIDC, "client_secret": "s3cret"}), "authentication.client_secret", "unknown"),
    ],
    ids=[
        "http-only",
        "http-forwards-beside-https",
        "nlb",
        "http-issuer",
        "endpoint-without-scheme",
        "secret-value",
        "json-key",
        "session-too-long",
        "unknown-behaviour",
        "user-pool-arn",
        "unknown-type",
        "secret-in-spec",
    ],
)
def test_a_bad_authentication_is_refused_naming_its_field(raw, path, words):
    message = problems(raw)
    assert f"load_balancers[0].{path}" in message
    assert words in message


def test_every_missing_oidc_member_is_named_at_once():
    message = problems(protected({"type": "oidc"}))
    for field in ("issuer", "authorization_endpoint", "token_endpoint", "user_info_endpoint"):
        assert f"load_balancers[0].authentication.{field}: required for type oidc" in message
    assert "client_secret_arn: required for type oidc" in message


def test_the_other_kinds_members_are_refused():
    message = problems(protected({**OIDC, "user_pool_domain": "previews"}))
    assert "load_balancers[0].authentication.user_pool_domain: only for type cognito" in message


def validated(raw: dict[str, Any], **deployment: str) -> dict[str, Any]:
    with settings.scope({**DEPLOYMENT, **deployment}):
        return validation.validate({"spec": raw})


def test_the_client_secret_must_be_the_environments_own_or_shared():
    assert validated(protected(OIDC))["spec"]["load_balancers"][0]["authentication"]
    shared = SECRET.replace("/demo/", "/_shared/")
    assert validated(protected({**OIDC, "client_secret_arn": shared}))
    other = SECRET.replace("/demo/", "/other/")
    with pytest.raises(InvalidSpec) as raised:
        validated(protected({**OIDC, "client_secret_arn": other}))
    assert "load_balancers[0].authentication.client_secret_arn: not one of" in str(raised.value)


def test_shared_mode_takes_authentication_only_with_a_gateway_domain():
    raw = {"name": "demo", "mode": "shared", "load_balancers": [{"authentication": OIDC}]}
    with pytest.raises(InvalidSpec) as raised:
        validated(raw)
    assert "load_balancers[0].authentication: not in shared mode" in str(raised.value)
    assert "HTTPS" in str(raised.value)
    with_domain = validated(raw, GATEWAY_DOMAIN="preview.example.com", GATEWAY_CERTIFICATE_ARN=CERT)
    assert with_domain["spec"]["load_balancers"][0]["authentication"]["type"] == "oidc"


def test_the_authenticate_action_comes_first_and_only_before_a_forward():
    authenticate = {"Type": "authenticate-oidc", "Order": 1}
    forward = {"Type": "forward", "TargetGroupArn": "arn:tg"}
    redirect = {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS"}}
    assert authentication.in_front(authenticate, forward) == [
        authenticate,
        {**forward, "Order": 2},
    ]
    assert authentication.in_front(authenticate, redirect) == [redirect]
    assert authentication.in_front(None, forward) == [forward]


def test_the_cognito_action_carries_the_pool_and_reads_no_secret():
    lb = spec.normalise(spec.parse(protected(COGNITO)))["load_balancers"][0]
    action = authentication.authenticate_action(lb)  # no AWS call: Cognito holds its secret
    assert action is not None
    assert action["Type"] == "authenticate-cognito"
    assert action["AuthenticateCognitoConfig"]["UserPoolDomain"] == "previews"
    assert action["AuthenticateCognitoConfig"]["OnUnauthenticatedRequest"] == "authenticate"


def test_the_oidc_action_reads_the_client_secret_from_secrets_manager(aws):
    import boto3

    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    arn = secrets.create_secret(Name="fargate-env/demo/oidc", SecretString="s3cret")["ARN"]
    lb = spec.normalise(spec.parse(protected({**OIDC, "client_secret_arn": arn})))
    action = authentication.authenticate_action(lb["load_balancers"][0])
    assert action is not None
    assert action["AuthenticateOidcConfig"]["ClientSecret"] == "s3cret"
    assert (
        action["AuthenticateOidcConfig"]["AuthorizationEndpoint"] == OIDC["authorization_endpoint"]
    )


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        (OIDC, (302, "https://idp.example.com/authorize")),
        (COGNITO, (302, "https://previews.auth.eu-west-1.amazoncognito.com/oauth2/authorize")),
        (
            {**COGNITO, "user_pool_domain": "login.example.com"},
            (302, "https://login.example.com/oauth2/authorize"),
        ),
        ({**OIDC, "on_unauthenticated_request": "deny"}, (401, None)),
        ({**OIDC, "on_unauthenticated_request": "allow"}, None),
    ],
    ids=["oidc", "cognito-prefix", "cognito-custom-domain", "deny", "allow"],
)
def test_an_anonymous_request_is_expected_to_get_the_load_balancers_own_answer(auth, expected):
    lb = spec.normalise(spec.parse(protected(auth)))["load_balancers"][0]
    assert authentication.expected_answer(lb) == expected


def test_the_endpoint_check_counts_only_the_sign_in_redirect_as_a_protected_answer():
    url, expected = "https://lb/", (302, "https://idp.example.com/authorize")
    sign_in = {"status": 302, "location": "https://idp.example.com/authorize?client_id=x"}
    assert endpoint._signs_in(url, expected, sign_in)
    assert not endpoint._signs_in(url, expected, {"status": 302, "location": "https://evil/"})
    assert not endpoint._signs_in(url, expected, {"status": 503})
    assert endpoint._signs_in(url, (401, None), {"status": 401})
    with pytest.raises(EndpointCheckFailed, match="without sign-in"):
        endpoint._signs_in(url, expected, {"status": 200})


def test_an_update_never_changes_the_authentication_in_place():
    before = spec.normalise(spec.parse(protected(OIDC)))
    after = spec.normalise(spec.parse(protected({**OIDC, "client_id": "another"})))
    assert update.infrastructure_changes(before, after) == [
        "load_balancers[0].authentication.client_id"
    ]
    removed = spec.normalise(
        spec.parse({**protected(OIDC), "load_balancers": [{"listeners": [HTTPS]}]})
    )
    assert update.infrastructure_changes(before, removed) == ["load_balancers[0].authentication"]
