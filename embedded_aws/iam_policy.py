"""IAM's decision, offline: whether a role may make a request, from the role's real policies
(its inline policies, its managed policies and its permissions boundary, as the deployed
template or a step created them in moto's IAM). moto keeps policies but never evaluates them;
the embedded AWS asks this where AWS would say AccessDenied and the flows depend on it: a task
whose execution role may not read its secret never starts, a step may not pass a role its
policy does not name.

What is evaluated, after the IAM user guide's "Policy evaluation logic" for a request within
one account by a role: an explicit Deny in any policy wins; otherwise the identity policies must
allow, and the permissions boundary too when the role has one. Action and Resource wildcards
(`*`, `?`), NotAction / NotResource, policy variables (`${aws:PrincipalTag/<key>}`: a missing
tag matches nothing) and the condition operators below, with `IfExists`. An operator not here
raises: a policy the evaluator does not understand is a gap to close, not a silent allow.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

Context = dict[str, str | list[str]]

_VARIABLE = re.compile(r"\$\{([^}]+)\}")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _wildcard(pattern: str, value: str, *, case: bool) -> bool:
    """IAM's matching: `*` any run of characters, `?` one; nothing else is special."""
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, 0 if case else re.IGNORECASE) is not None


def _substitute(text: str, context: Context) -> str | None:
    """`text` with its policy variables filled in from the request context; None when one has
    no value (the element then matches nothing, as IAM documents)."""
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        found = context.get(match.group(1))
        if not isinstance(found, str):
            missing = True
            return ""
        return found

    filled = _VARIABLE.sub(value, text)
    return None if missing else filled


def _string_equals(expected: str, actual: str) -> bool:
    return expected == actual


def _string_like(expected: str, actual: str) -> bool:
    return _wildcard(expected, actual, case=True)


def _arn_like(expected: str, actual: str) -> bool:
    # ARNs compare by their six parts, each with wildcards (ArnLike / ArnEquals).
    wanted, got = expected.split(":", 5), actual.split(":", 5)
    return len(wanted) == len(got) == 6 and all(
        _wildcard(w, g, case=True) for w, g in zip(wanted, got, strict=True)
    )


def _bool(expected: str, actual: str) -> bool:
    return expected.lower() == actual.lower()


#: Operator -> (test of one expected value against one actual value, negated).
OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "ArnEquals": (_arn_like, False),
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
    "Bool": (_bool, False),
}


def _condition_holds(operator: str, key: str, expected: Any, context: Context) -> bool:
    name = operator.removesuffix("IfExists")
    if name not in OPERATORS:
        raise NotImplementedError(f"condition operator {operator} is not evaluated offline")
    test, negated = OPERATORS[name]
    actual = context.get(key)
    if actual is None:
        # A missing key: IfExists holds; a negated operator holds; anything else fails.
        return operator.endswith("IfExists") or negated
    wanted = [value for raw in _as_list(expected) if (value := _substitute(str(raw), context))]
    matched = any(test(w, a) for w in wanted for a in _as_list(actual))
    return not matched if negated else matched


def _conditions_hold(conditions: dict[str, Any] | None, context: Context) -> bool:
    return all(
        _condition_holds(operator, key, expected, context)
        for operator, tests in (conditions or {}).items()
        for key, expected in tests.items()
    )


def _matches(statement: dict[str, Any], action: str, resource: str, context: Context) -> bool:
    if "Action" in statement:
        actions = _as_list(statement["Action"])
        if not any(_wildcard(p, action, case=False) for p in actions):
            return False
    elif any(_wildcard(p, action, case=False) for p in _as_list(statement["NotAction"])):
        return False
    key = "Resource" if "Resource" in statement else "NotResource"
    patterns = [p for raw in _as_list(statement[key]) if (p := _substitute(str(raw), context))]
    hit = any(_wildcard(p, resource, case=True) for p in patterns)
    if hit != (key == "Resource"):
        return False
    return _conditions_hold(statement.get("Condition"), context)


def _decisions(
    documents: Iterable[dict[str, Any]], action: str, resource: str, context: Context
) -> set[str]:
    """The effects of the statements that match the request."""
    return {
        statement["Effect"]
        for document in documents
        for statement in _as_list(document.get("Statement", []))
        if _matches(statement, action, resource, context)
    }


def trusting(service: str) -> dict[str, Any]:
    """A trust policy letting `service` (such as ecs-tasks.amazonaws.com) assume the role."""
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    return {"Version": "2012-10-17", "Statement": [statement]}


def document(raw: str | dict[str, Any]) -> dict[str, Any]:
    """A policy document as moto stores it (JSON text, sometimes URL-encoded) or as a dict."""
    if isinstance(raw, dict):
        return raw
    text = raw if raw.lstrip().startswith("{") else urllib.parse.unquote(raw)
    return dict(json.loads(text))


@dataclass(frozen=True)
class RolePolicies:
    """What IAM evaluates for requests made with a role."""

    arn: str
    identity: tuple[dict[str, Any], ...]
    boundary: dict[str, Any] | None
    tags: dict[str, str] = field(default_factory=dict)
    trust: dict[str, Any] = field(default_factory=dict)

    def context(self, extra: Context | None = None) -> Context:
        found: Context = {f"aws:PrincipalTag/{key}": value for key, value in self.tags.items()}
        found["aws:PrincipalArn"] = self.arn
        return {**found, **(extra or {})}

    def allows(self, action: str, resource: str, extra: Context | None = None) -> bool:
        context = self.context(extra)
        identity = _decisions(self.identity, action, resource, context)
        if "Deny" in identity or "Allow" not in identity:
            return False
        if self.boundary is None:
            return True
        return _decisions([self.boundary], action, resource, context) == {"Allow"}

    def _trusted(self, kind: str, principal: str, action: str, context: Context | None) -> bool:
        """Whether the trust policy lets `principal` (of `kind`: Service, Federated) make
        `action` on the role: a statement naming it allows it, its conditions hold in `context`
        (None: not evaluated), no Deny."""
        effects = set()
        for statement in _as_list(self.trust.get("Statement", [])):
            named = statement.get("Principal") or {}
            principals = _as_list(named.get(kind, [])) if isinstance(named, dict) else []
            if (
                principal in principals
                and any(_wildcard(a, action, case=False) for a in _as_list(statement["Action"]))
                and (context is None or _conditions_hold(statement.get("Condition"), context))
            ):
                effects.add(statement.get("Effect"))
        return effects == {"Allow"}

    def trusts_service(self, service: str) -> bool:
        """Whether the trust policy lets `service` assume the role (sts:AssumeRole; the
        service's own condition keys, such as aws:SourceAccount, are not known here)."""
        return self._trusted("Service", service, "sts:AssumeRole", None)

    def trusts_web_identity(self, provider_arn: str, claims: Context) -> bool:
        """Whether a token of the OIDC provider `provider_arn` with these claims (condition keys
        "<provider url>:aud", ":sub", ...) may assume the role (sts:AssumeRoleWithWebIdentity)."""
        return self._trusted("Federated", provider_arn, "sts:AssumeRoleWithWebIdentity", claims)


def _tags(raw: Any) -> dict[str, str]:
    if isinstance(raw, dict):  # moto keeps {key: {"Key": key, "Value": value}}
        return {key: str(item.get("Value", "")) for key, item in raw.items()}
    return {item["Key"]: item["Value"] for item in raw or []}


def role(iam_backend: Any, arn: str) -> RolePolicies | None:
    """The role's policies as moto holds them (None: no such role)."""
    found = next((r for r in iam_backend.get_roles() if r.arn == arn), None)
    if found is None:
        return None
    identity = [document(text) for text in found.policies.values()]
    for policy in found.managed_policies.values():
        identity.append(document(_default_version(policy)))
    boundary = None
    if found.permissions_boundary_arn:
        boundary = document(
            _default_version(iam_backend.get_policy(found.permissions_boundary_arn))
        )
    return RolePolicies(
        arn=arn,
        identity=tuple(identity),
        boundary=boundary,
        tags=_tags(found.tags),
        trust=document(found.assume_role_policy_document),
    )


def _default_version(policy: Any) -> str:
    return str(next(v.document for v in policy.versions if v.is_default))
