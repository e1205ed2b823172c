"""What an environment costs per hour, estimated from its spec and the price table
(prices.json beside this module: one entry per price, each with its source).

The estimate is a list of per-hour items (load balancers, their public addresses, the tasks'
vCPU and memory by architecture and capacity provider, their public addresses, their logs), so
other shapes of environment (a shared load balancer) reuse the same table and the same items.
Usage-based charges (LCUs, data transfer) are named in `excludes`, never guessed.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, Final, TypedDict

from fargate_env.payloads import NormalisedSpec

PRICES_FILE: Final = Path(__file__).with_name("prices.json")
#: Environments per gateway when the deployment says nothing (GatewayMaxEnvironments's default).
DEFAULT_SHARING: Final = 25


class CostItem(TypedDict):
    item: str
    quantity: float
    unit: str
    unit_price: float
    hourly: float


class Estimate(TypedDict):
    hourly: float
    currency: str
    region: str
    items: list[CostItem]
    assumptions: list[str]
    excludes: str


@cache
def price_table() -> dict[str, Any]:
    return dict(json.loads(PRICES_FILE.read_text()))


def _item(key: str, what: str, quantity: float, factor: float = 1.0) -> CostItem:
    """`quantity` units of price `key` per hour (`factor` scales the unit price, e.g. Spot)."""
    entry = price_table()["prices"][key]
    unit_price = float(entry["price"]) * factor
    return {
        "item": what,
        "quantity": round(quantity, 6),
        "unit": str(entry["unit"]),
        "unit_price": round(unit_price, 6),
        "hourly": round(quantity * unit_price, 6),
    }


def tasks_by_provider(spec: NormalisedSpec) -> dict[str, float]:
    """Expected tasks per capacity provider: the base first, the rest shared by weight (ECS's
    capacity provider strategy)."""
    desired = float(spec["service"]["desired_count"])
    strategy = spec["cluster"]["capacity_providers"]
    placed: dict[str, float] = {entry["provider"]: 0.0 for entry in strategy}
    remaining = desired
    for entry in strategy:
        base = min(float(entry.get("base") or 0), remaining)
        placed[entry["provider"]] += base
        remaining -= base
    weights = sum(float(entry.get("weight") or 0) for entry in strategy)
    for entry in strategy:
        if weights > 0:
            placed[entry["provider"]] += remaining * float(entry.get("weight") or 0) / weights
    return placed


def _load_balancer_items(
    spec: NormalisedSpec, zones: int, sharing: int, assumptions: list[str]
) -> list[CostItem]:
    """Dedicated: each load balancer and its public addresses. Shared: the environment's share
    of its gateway's (one of `sharing` environments: a full gateway)."""
    items: list[CostItem] = []
    share = 1.0
    if spec.get("mode") == "shared":
        share = 1 / sharing
        assumptions.append(
            f"a gateway shared by {sharing} environments (its cap, GatewayMaxEnvironments): "
            "each pays that share of its load balancer and addresses"
        )
    for lb in spec["load_balancers"]:
        kind = "application" if lb["type"] == "application" else "network"
        what = f"{kind} load balancer {lb['id']}"
        if share < 1:
            what = f"1/{sharing} of a gateway (application load balancer)"
        items.append(_item(f"{kind}_load_balancer", what, share))
        if lb["scheme"] == "internet-facing":
            owner = "the gateway" if share < 1 else f"load balancer {lb['id']}"
            items.append(
                _item(
                    "public_ipv4_address",
                    f"public IPv4 addresses of {owner} (one per zone)",
                    zones * share,
                )
            )
    return items


def estimate(
    spec: NormalisedSpec, zones: int | None = None, sharing: int = DEFAULT_SHARING
) -> Estimate:
    """Per-hour cost of the normalised `spec`. `zones`: how many subnets the load balancers use,
    when known (after the network is resolved); else the spec's, else the table's assumption.
    `sharing`: environments per gateway, in shared mode."""
    table = price_table()
    assumptions: list[str] = []
    network = spec["network"]
    named = len(network.get("load_balancer_subnet_ids") or network.get("subnet_ids") or [])
    if zones is None:
        zones = named
    if not zones:
        assumed = table["assumptions"]["availability_zones"]
        zones = int(assumed["value"])
        assumptions.append(f"{zones} Availability Zones: {assumed['why']}")
    items = _load_balancer_items(spec, zones, sharing, assumptions)
    container = spec["container"]
    architecture = "arm64" if container["cpu_architecture"] == "ARM64" else "x86_64"
    vcpu, memory_gb = container["cpu"] / 1024, container["memory"] / 1024
    spot_factor = 1 - float(table["prices"]["fargate_spot_discount"]["price"])
    for provider, tasks in tasks_by_provider(spec).items():
        if tasks <= 0:
            continue
        factor = 1.0
        if provider == "FARGATE_SPOT":
            factor = spot_factor
            assumptions.append("Fargate Spot at the largest discount AWS quotes (it varies)")
        label = f"{tasks:g} task(s) on {provider}, {architecture}"
        items.append(_item(f"fargate_vcpu_{architecture}", f"vCPU: {label}", vcpu * tasks, factor))
        items.append(
            _item(f"fargate_memory_{architecture}", f"memory: {label}", memory_gb * tasks, factor)
        )
    desired = float(spec["service"]["desired_count"])
    if spec["service"]["assign_public_ip"]:
        items.append(_item("public_ipv4_address", "public IPv4 addresses of the tasks", desired))
    log_rate = table["assumptions"]["log_gb_per_task_hour"]
    items.append(_item("logs_ingested", "task logs ingested", float(log_rate["value"]) * desired))
    assumptions.append(f"{log_rate['value']} GB of logs per task-hour: {log_rate['why']}")
    return {
        "hourly": round(sum(item["hourly"] for item in items), 6),
        "currency": str(table["currency"]),
        "region": str(table["region"]),
        "items": items,
        "assumptions": assumptions,
        "excludes": str(table["excludes"]),
    }


def accrued(hourly: float, seconds: float) -> float:
    """What `seconds` of an environment costing `hourly` came to (never negative)."""
    return round(hourly * max(seconds, 0.0) / 3600, 6)
