"""What stands in front of an environment's service: its own load balancers (dedicated mode,
load_balancers.py) or its route on a gateway (shared mode, gateways.py and gateway_routes.py).
The provisioning and teardown steps are the same in both modes; each step asks here."""

from __future__ import annotations

from typing import Any

from fargate_env import gateway_routes, gateways, load_balancers
from fargate_env.payloads import (
    ListenersRecord,
    LoadBalancerRecord,
    LoadBalancerSpec,
    Network,
    NormalisedSpec,
)


def shared(spec: NormalisedSpec) -> bool:
    return spec.get("mode") == "shared"


def ensure_load_balancer(
    spec: NormalisedSpec, lb: LoadBalancerSpec, network: Network, security_group_id: str | None
) -> LoadBalancerRecord:
    """Dedicated: the environment's load balancer. Shared: a slot on a gateway and the gateway's
    load balancer (made now when none has room)."""
    if shared(spec):
        return gateways.join(spec, lb)
    return load_balancers.ensure(spec, lb, network, str(security_group_id))


def ensure_listeners(
    spec: NormalisedSpec, lb: LoadBalancerSpec, created: LoadBalancerRecord, target_group_arn: str
) -> ListenersRecord | dict[str, Any]:
    """Dedicated: the load balancer's listeners. Shared: the environment's rule (or listener)
    on its gateway."""
    if shared(spec):
        return gateway_routes.ensure(spec, lb, created, target_group_arn)
    return load_balancers.ensure_listeners(spec, lb, created, target_group_arn)


def delete(env: str, inventory: dict[str, Any], mode: str | None) -> dict[str, Any]:
    """The environment's load balancers, then (unless it is known to be dedicated: `mode` from
    its registry item) its routes on gateways; never a gateway's own listeners or load balancer.
    The routes are looked for after the load balancers are deleted, off the teardown's path."""
    deleted = load_balancers.delete(env, inventory["load_balancers"])
    if mode != "dedicated":
        routes = gateway_routes.remove(env)
        if routes:
            deleted["gateway_routes"] = routes
    return deleted
