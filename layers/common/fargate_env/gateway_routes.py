"""An environment's route on its gateway (shared mode): what sends a request to its target group.

With a domain: a rule of the gateway's HTTPS listener, priority slot + 1, matching the host
`<name>.<domain>` (and, when the spec restricts who may reach it, the source addresses: a
source-ip condition); the URL is https://<name>.<domain>/. Without one: a listener of its own on
port GatewayFirstPort + slot, forwarding to the target group (or, when restricted, answering 403
but to a source-ip rule that forwards); the URL is http://<gateway's DNS name>:<port>/. Both are
tagged as the environment's: its teardown finds and deletes them, and never the gateway's own
listeners, certificate or load balancer.

A slot's priority or port is the environment's alone (gateway_registry.py); should AWS still
answer PriorityInUse or DuplicateListener (a rule or listener made outside fargate-env), the slot
is blocked and the environment moves to a free one, retrying: handled, not fatal.
"""

from __future__ import annotations

from typing import Any, Final

from fargate_env import (
    authentication,
    bounds,
    elbv2_tags,
    gateway_registry,
    gateways,
    ingress,
    naming,
    security_groups,
)
from fargate_env.aws import client
from fargate_env.errors import AwsRequestFailed, error_code
from fargate_env.payloads import LoadBalancerRecord, LoadBalancerSpec, NormalisedSpec

FORBIDDEN_BODY: Final = "This environment does not admit your address.\n"


class _SlotTaken(Exception):
    """AWS refused the slot's priority or port: something outside fargate-env holds it."""


def _rules(listener_arn: str) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for page in client("elbv2").get_paginator("describe_rules").paginate(ListenerArn=listener_arn):
        rules.extend(rule for rule in page["Rules"] if not rule.get("IsDefault"))
    return rules


def _listeners(load_balancer_arn: str) -> list[dict[str, Any]]:
    paginator = client("elbv2").get_paginator("describe_listeners")
    return [
        listener
        for page in paginator.paginate(LoadBalancerArn=load_balancer_arn)
        for listener in page["Listeners"]
    ]


def _tagged(arns: list[str], env: str) -> list[str]:
    tags = elbv2_tags.tags_of(arns) if arns else {}
    return [arn for arn in arns if naming.owned_by(tags.get(arn, {}), env)]


def _forward(target_group_arn: str) -> list[dict[str, Any]]:
    return [{"Type": "forward", "TargetGroupArn": target_group_arn}]


def _source_ip(cidrs: list[str]) -> list[dict[str, Any]]:
    """The source-ip condition, when the spec does not admit every address."""
    if ingress.WORLD_IPV4 in cidrs:
        return []
    return [{"Field": "source-ip", "SourceIpConfig": {"Values": list(cidrs)}}]


def _create_rule(
    listener_arn: str,
    priority: int,
    conditions: list[dict[str, Any]],
    actions: list[dict[str, Any]],
    tags: list[dict[str, str]],
) -> str:
    try:
        created = client("elbv2").create_rule(
            ListenerArn=listener_arn,
            Priority=priority,
            Conditions=conditions,
            Actions=actions,
            Tags=tags,
        )
    except Exception as exc:
        if error_code(exc) == "PriorityInUse":
            raise _SlotTaken(f"priority {priority} of {listener_arn} is in use") from exc
        raise
    return str(created["Rules"][0]["RuleArn"])


def _host_rule(
    spec: NormalisedSpec, lb: LoadBalancerSpec, gateway: dict[str, Any], slot: int, tg: str
) -> list[str]:
    """The host-header rule on the gateway's HTTPS listener (adopted when it exists); a
    protected environment's rule authenticates before it forwards."""
    env = spec["name"]
    listener = gateway["listeners"][str(gateways.HTTPS_PORT)]
    mine = _tagged([rule["RuleArn"] for rule in _rules(listener)], env)
    if mine:
        return mine
    settings = gateways.Settings.load()
    host = [
        {
            "Field": "host-header",
            "HostHeaderConfig": {"Values": [gateways.host_name(env, settings)]},
        }
    ]
    tags = naming.as_key_value_list(naming.environment_tags(env, spec["tags"]))
    conditions = host + _source_ip(lb["ingress_cidrs"])
    actions = authentication.in_front(authentication.authenticate_action(lb), _forward(tg)[0])
    return [_create_rule(listener, slot + 1, conditions, actions, tags)]


def _port_listener(
    spec: NormalisedSpec, lb: LoadBalancerSpec, gateway: dict[str, Any], slot: int, tg: str
) -> list[str]:
    """A listener of the environment's own on port first_port + slot (adopted when it exists);
    restricted to some addresses, it answers 403 but to a source-ip rule that forwards."""
    env = spec["name"]
    port = gateways.Settings.load().first_port + slot
    current = next((item for item in _listeners(gateway["arn"]) if item["Port"] == port), None)
    tags = naming.as_key_value_list(naming.environment_tags(env, spec["tags"]))
    restricted = _source_ip(lb["ingress_cidrs"])
    if current is not None:
        if not _tagged([current["ListenerArn"]], env):
            raise _SlotTaken(f"port {port} of gateway {gateway['gateway_id']} has a listener")
        arn = str(current["ListenerArn"])
    else:
        default = _forward(tg)
        if restricted:
            default = [gateways.fixed_response(403, FORBIDDEN_BODY)]
        try:
            arn = client("elbv2").create_listener(
                LoadBalancerArn=gateway["arn"],
                Protocol="HTTP",
                Port=port,
                DefaultActions=default,
                Tags=tags,
            )["Listeners"][0]["ListenerArn"]
        except Exception as exc:
            if error_code(exc) == "DuplicateListener":
                raise _SlotTaken(
                    f"port {port} of gateway {gateway['gateway_id']} is in use"
                ) from exc
            raise
    if not restricted:
        return [arn]
    rules = _tagged([rule["RuleArn"] for rule in _rules(arn)], env)
    return [arn, *(rules or [_create_rule(arn, 1, restricted, _forward(tg), tags)])]


def ensure(
    spec: NormalisedSpec, lb: LoadBalancerSpec, created: LoadBalancerRecord, target_group_arn: str
) -> dict[str, Any]:
    """Shared mode's "Create the listeners": the environment's route on its gateway, its tasks'
    group admitting the gateway's, and (on a gateway other than the wildcard's) its own DNS
    record. Returns the URL and how the endpoint check reaches it."""
    env = spec["name"]
    settings = gateways.Settings.load()
    placement = created["gateway"]
    route = _host_rule if settings.routing == gateways.HOST else _port_listener
    for _ in range(bounds.PLACEMENT_ROUNDS):
        gateway = gateways.ensure(placement["gateway_id"])
        try:
            arns = route(spec, lb, gateway, placement["slot"], target_group_arn)
            break
        except _SlotTaken as taken:
            placement = gateways.move(env, placement, str(taken))
    else:
        raise AwsRequestFailed(f"environment {env!r}: no usable slot on its gateway")
    security_groups.allow_from_gateway(spec, gateway["vpc_id"], gateway["security_group_id"])
    slot = placement["slot"]
    url = settings.url(env, gateway["dns_name"], slot)
    reached: dict[str, Any] = {**placement, "check_url": url, "host": None, "record": None}
    if settings.routing == gateways.HOST:
        host = gateways.host_name(env, settings)
        reached |= {
            "priority": slot + 1,
            "check_url": f"https://{gateway['dns_name']}/",
            "host": host,
        }
        if settings.hosted_zone_id and not gateways.holds_wildcard(gateway["gateway_id"], settings):
            gateways.change_record("UPSERT", host, gateway, settings)
            reached["record"] = host
    else:
        reached["port"] = settings.first_port + slot
    return {"id": lb["id"], "listener_arns": arns, "url": url, "gateway": reached}


def find(env: str) -> list[dict[str, Any]]:
    """Every route `env` has on any gateway: its slots (registry) and the rules and listeners
    tagged as its own on the gateways' load balancers."""
    settings = gateways.Settings.load()
    found = []
    for gateway in gateway_registry.all_gateways():
        slots = sorted(
            gateway_registry.slot_of(key)
            for key, member in gateway["members"].items()
            if member == env
        )
        lb = gateway.get("resources") or {}
        rules: list[str] = []
        listeners: list[str] = []
        if lb.get("arn"):
            own = {str(port): arn for port, arn in (lb.get("listeners") or {}).items()}
            others = [
                item for item in _listeners(lb["arn"]) if item["ListenerArn"] not in own.values()
            ]
            listeners = _tagged([item["ListenerArn"] for item in others], env)
            for arn in own.values():
                rules += _tagged([rule["RuleArn"] for rule in _rules(arn)], env)
        if slots or rules or listeners:
            record = None
            own_record = settings.routing == gateways.HOST and settings.hosted_zone_id
            if (
                own_record
                and lb.get("dns_name")
                and not gateways.holds_wildcard(gateway["gateway_id"], settings)
            ):
                record = gateways.host_name(env, settings)
            found.append(
                {
                    "gateway_id": gateway["gateway_id"],
                    "slots": slots,
                    "rules": rules,
                    "listeners": listeners,
                    "record": record,
                }
            )
    return found


def _delete(call: str, arn: str, gone: str) -> bool:
    try:
        getattr(client("elbv2"), call)(
            **{"RuleArn" if call == "delete_rule" else "ListenerArn": arn}
        )
    except Exception as exc:
        if error_code(exc) == gone:
            return False
        raise
    return True


def remove(env: str) -> list[dict[str, Any]]:
    """Take `env` off its gateways: its rules and listeners, its DNS record, then its slots (a
    slot is free only once nothing of the environment routes on it). The gateways themselves
    stay; one left empty starts its idle time."""
    settings = gateways.Settings.load()
    removed = []
    for route in find(env):
        deleted = [arn for arn in route["rules"] if _delete("delete_rule", arn, "RuleNotFound")]
        deleted += [
            arn for arn in route["listeners"] if _delete("delete_listener", arn, "ListenerNotFound")
        ]
        gateway = gateway_registry.get(route["gateway_id"]) or {}
        lb = gateway.get("resources") or {}
        if route["record"] and gateways.change_record("DELETE", route["record"], lb, settings):
            deleted.append(f"record {route['record']}")
        for slot in route["slots"]:
            gateway_registry.remove_member(route["gateway_id"], slot, env)
        removed.append(
            {"gateway_id": route["gateway_id"], "slots": route["slots"], "deleted": deleted}
        )
    return removed
