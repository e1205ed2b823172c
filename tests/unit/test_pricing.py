"""The cost model: per-hour items from a spec, priced from the table in the layer."""

from __future__ import annotations

from typing import Any

import pytest

from fargate_env import pricing
from fargate_env import spec as spec_model

PRICES = pricing.price_table()["prices"]


def normalised(**fields: Any) -> dict[str, Any]:
    return spec_model.normalise(spec_model.parse({"name": "cost", **fields}))


def price(key: str) -> float:
    return float(PRICES[key]["price"])


def by_item(estimate: pricing.Estimate) -> dict[str, float]:
    return {item["item"]: item["hourly"] for item in estimate["items"]}


def test_every_price_has_a_unit_and_a_source():
    for key, entry in PRICES.items():
        assert entry["price"] > 0, key
        assert entry["unit"], key
        assert entry["source"].startswith("https://aws.amazon.com/"), key


def test_the_runbook_example_costs_its_load_balancer_addresses_task_and_logs():
    estimate = pricing.estimate(normalised())

    expected = (
        price("application_load_balancer")
        + 2 * price("public_ipv4_address")  # two zones assumed: the spec names no subnets
        + 0.25 * price("fargate_vcpu_x86_64")
        + 0.5 * price("fargate_memory_x86_64")
        + 1 * price("public_ipv4_address")  # the task's public address
        + 0.001 * price("logs_ingested")
    )
    assert estimate["hourly"] == pytest.approx(expected, abs=1e-6)
    assert estimate["currency"] == "USD"
    assert any("2 Availability Zones" in text for text in estimate["assumptions"])
    assert "LCU" in estimate["excludes"]


def test_known_zones_replace_the_assumption():
    spec = normalised()
    two, six = pricing.estimate(spec), pricing.estimate(spec, zones=6)

    assert six["hourly"] - two["hourly"] == pytest.approx(4 * price("public_ipv4_address"))
    assert not any("Availability Zones" in text for text in six["assumptions"])
    named = normalised(network={"subnet_ids": [f"subnet-0000000{i}" for i in range(3)]})
    assert pricing.estimate(named)["hourly"] - two["hourly"] == pytest.approx(
        price("public_ipv4_address")
    )


def test_an_internal_load_balancer_and_private_tasks_have_no_public_addresses():
    spec = normalised(
        load_balancers=[{"id": "web", "scheme": "internal"}],
        service={"assign_public_ip": False},
    )

    items = by_item(pricing.estimate(spec))

    assert not [name for name in items if "public IPv4" in name]


def test_graviton_tasks_use_the_arm_prices():
    x86 = pricing.estimate(normalised(container={"cpu": 1024, "memory": 2048}))
    arm = pricing.estimate(
        normalised(container={"cpu": 1024, "memory": 2048, "cpu_architecture": "ARM64"})
    )

    saving = (price("fargate_vcpu_x86_64") - price("fargate_vcpu_arm64")) + 2 * (
        price("fargate_memory_x86_64") - price("fargate_memory_arm64")
    )
    assert x86["hourly"] - arm["hourly"] == pytest.approx(saving, abs=1e-6)


def test_spot_tasks_follow_the_capacity_provider_strategy_and_its_discount():
    spec = normalised(
        service={"desired_count": 2},
        cluster={
            "capacity_providers": [
                {"provider": "FARGATE", "weight": 1, "base": 1},
                {"provider": "FARGATE_SPOT", "weight": 3},
            ]
        },
    )

    # the base first, then the one remaining task shared 1:3
    assert pricing.tasks_by_provider(spec) == {"FARGATE": 1.25, "FARGATE_SPOT": 0.75}
    items = by_item(pricing.estimate(spec))
    spot_vcpu = items["vCPU: 0.75 task(s) on FARGATE_SPOT, x86_64"]
    assert spot_vcpu == pytest.approx(
        0.75 * 0.25 * price("fargate_vcpu_x86_64") * (1 - price("fargate_spot_discount")),
        abs=1e-6,
    )


def test_accrued_cost_is_the_hourly_rate_over_the_time_elapsed():
    assert pricing.accrued(0.06, 1800) == pytest.approx(0.03)
    assert pricing.accrued(0.06, -5) == 0
