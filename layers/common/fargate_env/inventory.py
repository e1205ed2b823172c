"""What an environment has in AWS right now: the recorded ids first, then name and tag lookups,
so a lost record orphans nothing. Teardown (and rollback) delete from this inventory."""

from __future__ import annotations

from typing import Any, Final

from fargate_env import (
    cluster,
    execution_role,
    load_balancers,
    logs,
    schedules,
    security_groups,
    service,
    target_groups,
    task_definition,
)
from fargate_env.payloads import Inventory


def recorded_ids(resources: dict[str, Any] | None) -> dict[str, list[str]]:
    """The ids a provisioning execution recorded (its `resources` output), by kind."""
    resources = resources or {}
    groups = resources.get("security_groups") or {}
    lbs = resources.get("load_balancers") or []
    return {
        "load_balancers": [lb["arn"] for lb in lbs if lb.get("arn")],
        "target_groups": [lb["target_group_arn"] for lb in lbs if lb.get("target_group_arn")],
        "security_groups": [
            *sorted((groups.get("load_balancers") or {}).values()),
            *([groups["tasks"]] if groups.get("tasks") else []),
        ],
    }


def _union(first: list[str], second: list[str]) -> list[str]:
    return list(dict.fromkeys([*first, *second]))


def find(env: str, resources: dict[str, Any] | None = None) -> Inventory:
    """What exists now: the recorded ids that still exist (and are ours), plus what the name and
    tag lookups find."""
    recorded = recorded_ids(resources)
    cluster_arn = cluster.find(env)
    found: Inventory = {
        "name": env,
        "cluster": cluster_arn,
        "service": service.find(env, cluster_arn),
        "load_balancers": _union(
            load_balancers.existing(env, recorded["load_balancers"]), load_balancers.find(env)
        ),
        "target_groups": _union(
            target_groups.existing(env, recorded["target_groups"]), target_groups.find(env)
        ),
        "task_definitions": task_definition.find(env),
        "security_groups": _union(
            security_groups.existing(env, recorded["security_groups"]),
            [g["GroupId"] for g in security_groups.find(env)],
        ),
        "log_group": logs.find(env),
        "schedule": schedules.find(env),
        "execution_role": execution_role.find(env),
        "count": 0,
    }
    found["count"] = count(found)
    return found


#: The kinds of which an environment has one, and those of which it may have several.
SINGLE: Final = ("cluster", "service", "log_group", "schedule", "execution_role")
SEVERAL: Final = ("load_balancers", "target_groups", "task_definitions", "security_groups")


def count(inventory: Inventory) -> int:
    """How many resources the inventory lists."""
    single = [inventory[key] for key in SINGLE]
    several = [inventory[key] for key in SEVERAL]
    return sum(1 for value in single if value) + sum(len(ids) for ids in several)


def empty(env: str) -> Inventory:
    """The inventory of an environment that has nothing (its shape, for every delete step)."""
    return {
        "name": env,
        "cluster": None,
        "service": None,
        "load_balancers": [],
        "target_groups": [],
        "task_definitions": [],
        "security_groups": [],
        "log_group": None,
        "schedule": None,
        "execution_role": None,
        "count": 0,
    }
