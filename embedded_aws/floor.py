"""AWS's own floor for a spec: the critical path of the latency model's inherent latencies, with
zero orchestration overhead (every call instant and issued at the first possible moment)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from embedded_aws.latency import LatencyModel

if TYPE_CHECKING:
    from fargate_env.payloads import NormalisedSpec


@dataclass(frozen=True)
class Floor:
    create: float  # until the URL answers
    teardown: float  # until nothing is left (the last security group can go)
    billing: float  # until no task and no load balancer exists


def create_floor(spec: NormalisedSpec, model: LatencyModel) -> float:
    """Every load balancer and the service created at 0: the URL answers once a target is
    healthy - one passing check after the load balancer is active and the task registered."""
    slowest = 0.0
    for lb in spec["load_balancers"]:
        active = model.load_balancer_active_after(lb["type"])
        registered = model.task_start
        if lb["type"] == "network":
            registered += model.nlb_target_registration
        interval = lb["target_group"]["health_check"]["interval_seconds"]
        healthy = max(registered, active) + interval * model.health_checks_until_healthy
        slowest = max(slowest, healthy)
    return slowest


def shared_create_floor(spec: NormalisedSpec, model: LatencyModel) -> float:
    """Shared mode on a warm gateway (its load balancer active long before): the service created
    at 0, the URL answers one passing check after the task is registered."""
    interval = spec["load_balancers"][0]["target_group"]["health_check"]["interval_seconds"]
    return float(model.task_start + interval * model.health_checks_until_healthy)


def task_stopped_after(spec: NormalisedSpec, model: LatencyModel) -> float:
    """A running task asked to stop: it drains, exits, and its ENI detaches."""
    drain = max(lb["target_group"]["deregistration_delay_seconds"] for lb in spec["load_balancers"])
    exit_after = min(spec["container"]["stop_timeout_seconds"], model.task_exit_after_sigterm)
    return float(drain + exit_after + model.task_deprovisioning)


def teardown_floor(spec: NormalisedSpec, model: LatencyModel) -> float:
    """Service and load balancers deleted at 0: the security groups can go once every network
    interface is released (tasks' after they stop, the load balancers' minutes after)."""
    stopped = task_stopped_after(spec, model)
    return max(stopped + model.task_eni_release_after_stop, model.lb_eni_release_after_delete)


def update_floor(spec: NormalisedSpec, model: LatencyModel) -> float:
    """UpdateService at 0 (load balancers active): the new task starts and passes one health
    check, then the old one drains for the deregistration delay: the new revision alone."""
    slowest = 0.0
    for lb in spec["load_balancers"]:
        registered = model.task_start
        if lb["type"] == "network":
            registered += model.nlb_target_registration
        interval = lb["target_group"]["health_check"]["interval_seconds"]
        healthy = registered + interval * model.health_checks_until_healthy
        slowest = max(slowest, healthy + lb["target_group"]["deregistration_delay_seconds"])
    return slowest


def floor(spec: NormalisedSpec, model: LatencyModel) -> Floor:
    return Floor(
        create=create_floor(spec, model),
        teardown=teardown_floor(spec, model),
        billing=task_stopped_after(spec, model),
    )
