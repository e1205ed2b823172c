"""Load balancers (ALB or NLB) and their listeners.

The listener is created as soon as the load balancer exists, while it is still provisioning:
AWS allows it, and the ALB's ~150 s to `active` is the floor of the whole create, so nothing
should wait on it but the final readiness check.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final

from fargate_env import authentication, elbv2_tags, naming
from fargate_env.aws import client
from fargate_env.errors import (
    AwsRequestFailed,
    ResourceConflict,
    ResourceNotReady,
    error_code,
    or_none_on,
)
from fargate_env.payloads import (
    GatewayLoadBalancer,
    ListenerSpec,
    ListenersRecord,
    LoadBalancerRecord,
    LoadBalancersActive,
    LoadBalancersDeleted,
    LoadBalancerSpec,
    Network,
    NormalisedSpec,
)

_LB_GONE = ("LoadBalancerNotFound",)
_READY_STATES = ("active", "active_impaired")
DEFAULT_SSL_POLICY: Final = "ELBSecurityPolicy-TLS13-1-2-2021-06"


def _describe_by_name(name: str) -> dict[str, Any] | None:
    found = or_none_on(
        _LB_GONE, lambda: client("elbv2").describe_load_balancers(Names=[name])["LoadBalancers"]
    )
    return found[0] if found else None


def _describe_by_arn(arn: str) -> dict[str, Any] | None:
    found = or_none_on(
        _LB_GONE,
        lambda: client("elbv2").describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"],
    )
    return found[0] if found else None


def _summary(lb: dict[str, Any], lb_id: str) -> LoadBalancerRecord:
    return {
        "id": lb_id,
        "arn": lb["LoadBalancerArn"],
        "name": lb["LoadBalancerName"],
        "dns_name": lb["DNSName"],
        "type": lb["Type"],
    }


def _create(request: dict[str, Any]) -> dict[str, Any] | None:
    """Create the load balancer; None when a concurrent attempt created it first."""
    created = or_none_on(
        ("DuplicateLoadBalancerName",), lambda: client("elbv2").create_load_balancer(**request)
    )
    return None if created is None else dict(created["LoadBalancers"][0])


def _ensure(
    request: dict[str, Any], require_owner: Callable[[str, dict[str, str]], None]
) -> tuple[dict[str, Any], bool]:
    """The load balancer `request` names, created if missing (and whether it was just created);
    one that exists must pass `require_owner(name, tags)` and have the request's type and
    scheme. Never waits for active."""
    name = request["Name"]
    existing = _describe_by_name(name)
    if existing is None:
        created = _create(request)
        if created is not None:
            return created, True
        existing = _describe_by_name(name)
        if existing is None:
            raise ResourceNotReady(
                f"load balancer {name!r} was reported duplicate but is not found"
            )
    tags = elbv2_tags.tags_of([existing["LoadBalancerArn"]]).get(existing["LoadBalancerArn"], {})
    require_owner(name, tags)
    if (existing["Type"], existing["Scheme"]) != (request["Type"], request["Scheme"]):
        raise ResourceConflict(
            f"load balancer {name!r} exists as {existing['Scheme']} {existing['Type']}, it is "
            f"wanted {request['Scheme']} {request['Type']}; tear it down first"
        )
    return existing, False


def ensure(
    spec: NormalisedSpec, lb: LoadBalancerSpec, network: Network, security_group_id: str
) -> LoadBalancerRecord:
    """The environment's load balancer `lb["id"]`, created if missing. Never waits for active."""
    env = spec["name"]
    request = {
        "Name": naming.load_balancer_name(env, lb["id"]),
        "Subnets": network["load_balancer_subnet_ids"],
        "SecurityGroups": [security_group_id],
        "Scheme": lb["scheme"],
        "Type": lb["type"],
        "IpAddressType": "ipv4",
        "Tags": naming.as_key_value_list(naming.environment_tags(env, spec["tags"])),
    }
    found, _ = _ensure(
        request, lambda name, tags: naming.require_owned("load balancer", name, tags, env)
    )
    return _summary(found, lb["id"])


def ensure_gateway(
    gateway_id: str,
    name: str,
    scheme: str,
    subnet_ids: list[str],
    security_group_id: str,
    tags: dict[str, str],
) -> GatewayLoadBalancer:
    """A gateway's Application Load Balancer, created if missing. Never waits for active."""
    request = {
        "Name": name,
        "Subnets": subnet_ids,
        "SecurityGroups": [security_group_id],
        "Scheme": scheme,
        "Type": "application",
        "IpAddressType": "ipv4",
        "Tags": naming.as_key_value_list(tags),
    }
    found, _ = _ensure(
        request,
        lambda name, tags: naming.require_gateway_owned("load balancer", name, tags, gateway_id),
    )
    return {
        "arn": found["LoadBalancerArn"],
        "name": found["LoadBalancerName"],
        "dns_name": found["DNSName"],
        "canonical_hosted_zone_id": found.get("CanonicalHostedZoneId", ""),
        "scheme": found["Scheme"],
    }


def ensure_gateway_listeners(
    lb: GatewayLoadBalancer, wanted: list[dict[str, Any]], tags: dict[str, str]
) -> dict[str, str]:
    """A gateway's own listeners (CreateListener requests without the load balancer), created
    if missing: port -> listener ARN."""
    elbv2 = client("elbv2")
    existing = {
        item["Port"]: item
        for item in elbv2.describe_listeners(LoadBalancerArn=lb["arn"])["Listeners"]
    }
    arns: dict[str, str] = {}
    for request in wanted:
        current = existing.get(request["Port"])
        if current is None:
            try:
                current = elbv2.create_listener(
                    LoadBalancerArn=lb["arn"], Tags=naming.as_key_value_list(tags), **request
                )["Listeners"][0]
            except Exception as exc:
                if error_code(exc) != "DuplicateListener":
                    raise
                raise ResourceNotReady(
                    f"a listener on port {request['Port']} of {lb['name']} appeared concurrently"
                ) from exc
        elif current["Protocol"] != request["Protocol"]:
            raise ResourceConflict(
                f"gateway {lb['name']!r} has a {current['Protocol']} listener on port "
                f"{request['Port']}, not {request['Protocol']}"
            )
        arns[str(request["Port"])] = current["ListenerArn"]
    return arns


def delete_gateway(gateway_id: str, name: str) -> list[str]:
    """A gateway's listeners (their rules go with them) and load balancer, when they are the
    gateway's (its tags): nothing else of that name is ever deleted."""
    found = _describe_by_name(name)
    if found is None:
        return []
    arn = found["LoadBalancerArn"]
    if not naming.gateway_owned_by(elbv2_tags.tags_of([arn]).get(arn, {}), gateway_id):
        return []
    deleted = _delete_listeners(
        client("elbv2").describe_listeners(LoadBalancerArn=arn)["Listeners"]
    )
    client("elbv2").delete_load_balancer(LoadBalancerArn=arn)
    return [*deleted, arn]


def _delete_listeners(listeners: list[dict[str, Any]]) -> list[str]:
    """Delete each listener (their rules go with them): the ARNs deleted, those already gone
    left out."""
    deleted = []
    for listener in listeners:
        arn = listener["ListenerArn"]
        delete = functools.partial(client("elbv2").delete_listener, ListenerArn=arn)
        if or_none_on(("ListenerNotFound",), delete) is not None:
            deleted.append(arn)
    return deleted


def _default_action(
    listener: ListenerSpec, lb: LoadBalancerSpec, target_group_arn: str
) -> dict[str, Any]:
    if listener["redirect_to_https"]:
        https_port = next(item["port"] for item in lb["listeners"] if item["protocol"] == "HTTPS")
        return {
            "Type": "redirect",
            "RedirectConfig": {
                "Protocol": "HTTPS",
                "Port": str(https_port),
                "StatusCode": "HTTP_301",
            },
        }
    return {"Type": "forward", "TargetGroupArn": target_group_arn}


def url_of(lb: LoadBalancerSpec, dns_name: str) -> str:
    """The URL that reaches the service: the first listener that forwards (not redirects)."""
    listener = next(item for item in lb["listeners"] if not item["redirect_to_https"])
    scheme = "https" if listener["protocol"] in ("HTTPS", "TLS") else "http"
    default_port = 443 if scheme == "https" else 80
    port = "" if listener["port"] == default_port else f":{listener['port']}"
    return f"{scheme}://{dns_name}{port}/"


def ensure_listeners(
    spec: NormalisedSpec,
    lb: LoadBalancerSpec,
    load_balancer: LoadBalancerRecord,
    target_group_arn: str,
) -> ListenersRecord:
    """Every listener of `lb`, created if missing; a same-port listener of another protocol is a
    conflict. A protected `lb` (authentication) authenticates before each forward; its client
    secret is read here, once, and goes nowhere but to ELBv2."""
    elbv2 = client("elbv2")
    existing = {
        item["Port"]: item
        for item in elbv2.describe_listeners(LoadBalancerArn=load_balancer["arn"])["Listeners"]
    }
    tags = naming.as_key_value_list(naming.environment_tags(spec["name"], spec["tags"]))
    arns = []
    authenticate = None
    for listener in lb["listeners"]:
        current = existing.get(listener["port"])
        if current is not None:
            if current["Protocol"] != listener["protocol"]:
                raise ResourceConflict(
                    f"load balancer {load_balancer['name']!r} already has a {current['Protocol']} "
                    f"listener on port {listener['port']}; the spec wants {listener['protocol']}"
                )
            arns.append(current["ListenerArn"])
            continue
        if authenticate is None:
            authenticate = authentication.authenticate_action(lb)
        request: dict[str, Any] = {
            "LoadBalancerArn": load_balancer["arn"],
            "Protocol": listener["protocol"],
            "Port": listener["port"],
            "DefaultActions": authentication.in_front(
                authenticate, _default_action(listener, lb, target_group_arn)
            ),
            "Tags": tags,
        }
        if listener["certificate_arn"]:
            request["Certificates"] = [{"CertificateArn": listener["certificate_arn"]}]
            request["SslPolicy"] = listener["ssl_policy"]
        try:
            created = elbv2.create_listener(**request)
        except Exception as exc:
            if error_code(exc) != "DuplicateListener":
                raise
            raise ResourceNotReady(
                f"a listener on port {listener['port']} appeared concurrently; retrying"
            ) from exc
        arns.append(created["Listeners"][0]["ListenerArn"])
    return {
        "id": lb["id"],
        "listener_arns": arns,
        "url": url_of(lb, load_balancer["dns_name"]),
    }


def _describe_all(arns: list[str]) -> dict[str, dict[str, Any] | None]:
    """ARN -> its description (None: gone), in one DescribeLoadBalancers call when all exist
    (Describe* share one ELBv2 rate: one call per look, not one per load balancer). AWS
    refuses the whole call when one ARN is gone; each is then described alone."""
    if not arns:
        return {}
    together = or_none_on(
        _LB_GONE,
        lambda: client("elbv2").describe_load_balancers(LoadBalancerArns=arns)["LoadBalancers"],
    )
    if together is None:
        return {arn: _describe_by_arn(arn) for arn in arns}
    by_arn = {lb["LoadBalancerArn"]: lb for lb in together}
    return {arn: by_arn.get(arn) for arn in arns}


def check_active(arns: list[str]) -> LoadBalancersActive:
    """One look at the load balancers: ready when every one is active."""
    states: dict[str, str] = {}
    for arn, found in _describe_all(arns).items():
        if found is None:
            raise AwsRequestFailed(f"load balancer {arn} disappeared while provisioning")
        state = found["State"]
        states[found["LoadBalancerName"]] = state["Code"]
        if state["Code"] == "failed":
            raise AwsRequestFailed(
                f"load balancer {found['LoadBalancerName']} failed to provision: "
                f"{state.get('Reason', 'no reason given')}"
            )
    return {
        "ready": all(code in _READY_STATES for code in states.values()),
        "states": states,
        "summary": ", ".join(f"{name} {code}" for name, code in states.items()),
    }


def find(env: str) -> list[str]:
    return elbv2_tags.find_owned(
        env, "describe_load_balancers", "LoadBalancers", "LoadBalancerName", "LoadBalancerArn"
    )


def _existing_owned(env: str, arns: list[str]) -> list[dict[str, Any]]:
    found = [lb for lb in (_describe_by_arn(arn) for arn in arns) if lb is not None]
    return elbv2_tags.owned(found, "LoadBalancerArn", env)


def existing(env: str, arns: list[str]) -> list[str]:
    """The load balancers among `arns` that still exist and are ours."""
    return [lb["LoadBalancerArn"] for lb in _existing_owned(env, arns)]


def delete(env: str, arns: list[str]) -> dict[str, Any]:
    """Delete our load balancers among `arns`, listeners first. Already gone is success."""
    elbv2 = client("elbv2")
    deleted_listeners, deleted = [], []
    for lb in _existing_owned(env, arns):
        describe = functools.partial(
            elbv2.describe_listeners, LoadBalancerArn=lb["LoadBalancerArn"]
        )
        described = or_none_on(_LB_GONE, describe)
        if described is None:
            continue
        deleted_listeners += _delete_listeners(described["Listeners"])
        elbv2.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])
        deleted.append(lb["LoadBalancerArn"])
    return {"deleted": deleted, "deleted_listeners": deleted_listeners}


def check_deleted(arns: list[str]) -> LoadBalancersDeleted:
    remaining = [arn for arn in arns if _describe_by_arn(arn) is not None]
    names = [arn.split("/")[-2] for arn in remaining]
    return {"ready": not remaining, "remaining": remaining, "summary": ", ".join(names)}
