"""STS AssumeRoleWithWebIdentity as AWS decides it (rules.py: sts.web-identity-trust). moto hands
out credentials for any role and any token; AWS first finds the account's IAM OIDC provider for
the token's issuer, checks that the token's audience is one of the provider's client ids, then
evaluates the role's trust policy with the token's claims as condition keys (`<provider
url>:aud`, `<provider url>:sub`): so a workflow of another repository, or one run for a push
instead of a pull request, never gets the preview role. The token's signature is not verified
offline (no key leaves GitHub)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from embedded_aws import iam_policy
from embedded_aws.patches import Patches
from embedded_aws.strict.guards import guard, refuse


def claims_of(token: str) -> dict[str, Any]:
    """The claims of a JSON Web Token (its middle part), unverified."""
    parts = token.split(".")
    try:
        if len(parts) != 3:
            raise ValueError("not three parts")
        payload = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, binascii.Error):
        refuse("InvalidIdentityToken", "The web identity token that was passed is not a JWT")
    if not isinstance(claims, dict):
        refuse("InvalidIdentityToken", "The web identity token that was passed is not a JWT")
    return claims


def _check(response: Any, arguments: dict[str, Any]) -> None:
    from moto.iam.models import iam_backends

    claims = claims_of(str(response._get_param("WebIdentityToken") or ""))
    issuer = str(claims.get("iss", ""))
    url = issuer.removeprefix("https://")
    account = response.current_account
    iam = iam_backends[account]["global"]
    provider_arn = f"arn:aws:iam::{account}:oidc-provider/{url}"
    provider = iam.open_id_providers.get(provider_arn)
    if provider is None:
        refuse(
            "InvalidIdentityToken", f"No OpenIDConnect provider found in your account for {issuer}"
        )
    audiences = claims.get("aud")
    audiences = audiences if isinstance(audiences, list) else [audiences]
    if not set(map(str, audiences)) & set(provider.client_id_list):
        refuse("InvalidIdentityToken", "Incorrect token audience")
    context: iam_policy.Context = {
        f"{url}:{key}": value if isinstance(value, list) else str(value)
        for key, value in claims.items()
    }
    role = iam_policy.role(iam, str(response._get_param("RoleArn")))
    if role is None or not role.trusts_web_identity(provider_arn, context):
        refuse("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")


def install(patches: Patches) -> None:
    from moto.sts.responses import TokenResponse

    guard(patches, TokenResponse, "assume_role_with_web_identity", _check)
