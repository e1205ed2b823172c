"""Protected previews: a load balancer's `authentication` (ALB's authenticate-oidc or
authenticate-cognito action) in front of the forward to the environment's target group.

AWS's rules (Elastic Load Balancing, "Authenticate users using an Application Load Balancer";
API reference, Action and AuthenticateOidcActionConfig): authenticate actions exist only on an
Application Load Balancer's HTTPS listeners and rules; they come before the forward (the lowest
Order runs first; the forward is the last action); OIDC needs the issuer, the authorization,
token and user-info endpoints (each a full https URL), the client id and the client secret.

The client secret is never in the spec nor in any step's input or output: the spec names the
Secrets Manager secret (its ARN, under the deployment's secret prefixes, as a container's
secrets), and the step that creates the listener or rule reads its value and hands it to ELBv2
directly (create_listeners, whose role alone may read it).

An anonymous request to a protected listener is answered by the load balancer itself: a 302 to
the identity provider's authorization endpoint (on_unauthenticated_request "authenticate"), a
401 ("deny"), or it goes on to the targets ("allow"). expected_answer() says which, for the
endpoint check.
"""

from __future__ import annotations

from typing import Any, Final

from fargate_env import containers
from fargate_env.aws import client
from fargate_env.payloads import AuthenticationSpec, LoadBalancerSpec, NormalisedSpec

OIDC: Final = "oidc"
COGNITO: Final = "cognito"
ACTION_TYPES: Final = {OIDC: "authenticate-oidc", COGNITO: "authenticate-cognito"}
AUTHENTICATE: Final = "authenticate"
DENY: Final = "deny"
ALLOW: Final = "allow"
#: ELBv2's defaults (AuthenticateOidcActionConfig): scope "openid", the session cookie's name,
#: a session of 7 days at most.
DEFAULT_SCOPE: Final = "openid"
DEFAULT_SESSION_COOKIE: Final = "AWSELBAuthSessionCookie"
MAX_SESSION_TIMEOUT_SECONDS: Final = 604800
#: The field of a load balancer that protects it.
FIELD: Final = "authentication"


def secret_references(spec: NormalisedSpec) -> dict[str, str]:
    """Field path -> ARN of every secret the spec names: each container's (read by ECS when a
    task starts) and each load balancer's client secret (read by the create_listeners step)."""
    found = containers.secret_references(spec)
    for index, lb in enumerate(spec["load_balancers"]):
        auth = lb["authentication"]
        arn = auth["client_secret_arn"] if auth else None
        if arn:
            found[f"load_balancers[{index}].{FIELD}.client_secret_arn"] = arn
    return found


def _client_secret(arn: str) -> str:
    return str(client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])


def _session(auth: AuthenticationSpec) -> dict[str, Any]:
    return {
        "Scope": auth["scope"],
        "SessionCookieName": auth["session_cookie_name"],
        "SessionTimeout": int(auth["session_timeout_seconds"]),
        "OnUnauthenticatedRequest": auth["on_unauthenticated_request"],
    }


def authenticate_action(lb: LoadBalancerSpec) -> dict[str, Any] | None:
    """The authenticate action of `lb` (None when it is not protected), its client secret read
    from Secrets Manager now. Never returned by a step: it holds the secret's value."""
    auth = lb.get(FIELD)
    if not auth:
        return None
    if auth["type"] == OIDC:
        config = {
            "Issuer": auth["issuer"],
            "AuthorizationEndpoint": auth["authorization_endpoint"],
            "TokenEndpoint": auth["token_endpoint"],
            "UserInfoEndpoint": auth["user_info_endpoint"],
            "ClientId": auth["client_id"],
            "ClientSecret": _client_secret(str(auth["client_secret_arn"])),  # the model's rule
            **_session(auth),
        }
        return {"Type": ACTION_TYPES[OIDC], "Order": 1, "AuthenticateOidcConfig": config}
    config = {
        "UserPoolArn": auth["user_pool_arn"],
        "UserPoolClientId": auth["user_pool_client_id"],
        "UserPoolDomain": auth["user_pool_domain"],
        **_session(auth),
    }
    return {"Type": ACTION_TYPES[COGNITO], "Order": 1, "AuthenticateCognitoConfig": config}


def in_front(authenticate: dict[str, Any] | None, final: dict[str, Any]) -> list[dict[str, Any]]:
    """A listener's or rule's actions: `final` alone, or, when it forwards and the load balancer
    is protected, the authenticate action (Order 1) then `final` (Order 2). A redirect to HTTPS
    stays as it is: the request is authenticated on the HTTPS listener it is sent to."""
    if authenticate is None or final["Type"] != "forward":
        return [final]
    return [authenticate, {**final, "Order": 2}]


def sign_in_url(auth: AuthenticationSpec) -> str:
    """Where the load balancer sends an anonymous request: the identity provider's authorization
    endpoint (Cognito's: the user pool domain's /oauth2/authorize; a domain prefix is hosted at
    <prefix>.auth.<region>.amazoncognito.com, a custom domain is used as it is)."""
    if auth["type"] == OIDC:
        return str(auth["authorization_endpoint"])
    domain = str(auth["user_pool_domain"])
    if "." not in domain:
        region = str(auth["user_pool_arn"]).split(":")[3]
        domain = f"{domain}.auth.{region}.amazoncognito.com"
    return f"https://{domain}/oauth2/authorize"


def expected_answer(lb: LoadBalancerSpec) -> tuple[int, str | None] | None:
    """What an anonymous request to `lb` gets from the load balancer itself: (302, the sign-in
    URL) or (401, None); None when it reaches the targets (not protected, or "allow")."""
    auth = lb.get(FIELD)
    if not auth or auth["on_unauthenticated_request"] == ALLOW:
        return None
    if auth["on_unauthenticated_request"] == DENY:
        return 401, None
    return 302, sign_in_url(auth)
