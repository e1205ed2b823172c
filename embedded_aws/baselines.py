"""The two ways people build the same stack today, run by the same simulator for comparison.

- runbook: the write-up's order, one step after the other, each waiting for the previous one as
  a person (or a botocore waiter, polling every 15 s) would, with AWS's defaults (health check
  every 30 s, healthy threshold 5, deregistration delay 300 s, stop timeout 30 s).
- cloudformation: CloudFormation's order: the independent resources at once, but the listener
  and the service only after the load balancer is active, and the stack done once the service
  is stable; deletion in reverse, each resource waiting for the one that depends on it.

Both call the same library functions the steps use, so API latencies and AWS's behaviour are
the embedded AWS's own; only the orchestration differs.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from embedded_aws.emulator import EmbeddedAWS

if TYPE_CHECKING:
    from fargate_env.payloads import NormalisedSpec

# The waiters a runbook uses (ECS ServicesStable, ELBv2 LoadBalancerAvailable, TargetInService)
# poll every 15 s: botocore/data/ecs/2014-11-13/waiters-2.json and
# botocore/data/elbv2/2015-12-01/waiters-2.json
WAITER_DELAY = 15.0
MAX_POLLS = 240


@dataclass
class BaselineRun:
    name: str
    to_url: float
    create_done: float
    teardown: float
    billing: float


def with_aws_defaults(spec: NormalisedSpec) -> NormalisedSpec:
    """The spec with the settings AWS gives when nothing is said."""
    from fargate_env import spec as spec_model

    raw = {
        **spec,
        "container": {**spec["container"], "stop_timeout_seconds": 30},
        "load_balancers": [
            {
                **lb,
                "target_group": {
                    **lb["target_group"],
                    "deregistration_delay_seconds": 300,
                    "health_check": {
                        **lb["target_group"]["health_check"],
                        "interval_seconds": 30,
                        "timeout_seconds": 6 if lb["type"] == "application" else 10,
                        "healthy_threshold": 5,
                    },
                },
            }
            for lb in spec["load_balancers"]
        ],
    }
    return spec_model.normalise(spec_model.parse(raw))


@contextmanager
def _deployment_environment(aws: EmbeddedAWS) -> Iterator[None]:
    """The environment variables the template gives the functions, for direct library calls."""
    variables = aws.function_environment()
    saved = dict(os.environ)
    os.environ.update({key: str(value) for key, value in variables.items()})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _wait(aws: EmbeddedAWS, ready: Callable[[], bool], what: str) -> None:
    for _ in range(MAX_POLLS):
        if ready():
            return
        aws.clock.sleep(WAITER_DELAY)
    raise TimeoutError(f"baseline: {what} not reached")


def _retry_not_ready(aws: EmbeddedAWS, action: Callable[[], Any]) -> Any:
    from fargate_env.errors import ResourceNotReady

    for _ in range(MAX_POLLS):
        try:
            return action()
        except ResourceNotReady:
            aws.clock.sleep(WAITER_DELAY)
    raise TimeoutError("baseline: still not ready")


def _load_balancer_active(arn: str) -> bool:
    from fargate_env import load_balancers

    return bool(load_balancers.check_active([arn])["ready"])


def _page_shows(url: str) -> bool:
    from fargate_env import endpoint

    return bool(endpoint.get(url)["status"] == 200)


def _create(aws: EmbeddedAWS, spec: NormalisedSpec, cloudformation: bool) -> dict[str, Any]:
    from fargate_env import (
        cluster,
        execution_role,
        load_balancers,
        logs,
        preflight,
        security_groups,
        service,
        target_groups,
        task_definition,
    )

    start = aws.clock.now()
    network = preflight.check(spec)
    groups = security_groups.create_for_environment(spec, network)
    log_group = logs.ensure(spec)
    role = execution_role.ensure(spec, log_group["name"])
    definition = task_definition.register(spec, log_group["name"], role["arn"])
    made: list[dict[str, Any]] = []
    for lb in spec["load_balancers"]:
        target_group = target_groups.ensure(spec, lb, network)
        created = load_balancers.ensure(spec, lb, network, groups["load_balancers"][lb["id"]])
        if cloudformation:  # the stack waits for each load balancer before its listener
            _wait(
                aws,
                functools.partial(_load_balancer_active, created["arn"]),
                "load balancer active",
            )
        listeners = load_balancers.ensure_listeners(spec, lb, created, target_group["arn"])
        made.append({**created, "target_group_arn": target_group["arn"], "url": listeners["url"]})
    if not cloudformation:  # the runbook waits for every load balancer after creating it
        _wait(aws, lambda: load_balancers.check_active([m["arn"] for m in made])["ready"], "active")
    ecs_cluster = cluster.ensure(spec)
    created_service = service.ensure(
        {
            "spec": spec,
            "network": network,
            "cluster_arn": ecs_cluster["arn"],
            "task_definition_arn": definition["arn"],
            "target_groups": [{"id": m["id"], "arn": m["target_group_arn"]} for m in made],
            "tasks_security_group_id": groups["tasks"],
            "execution_name": "baseline",
        }
    )

    def stable() -> bool:
        status = service.check_stable(ecs_cluster["arn"], created_service["name"], [])
        return bool(
            status["rollout_state"] == "COMPLETED" and status["running"] == status["desired"]
        )

    _wait(aws, stable, "service stable")
    create_done = aws.clock.now() - start
    # Opening the DNS name in a browser: until the page shows (a refresh every 15 s).
    for record in made:
        _wait(aws, functools.partial(_page_shows, record["url"]), "the page")
    return {
        "to_url": aws.clock.now() - start,
        "create_done": create_done,
        "made": made,
        "cluster": ecs_cluster["arn"],
    }


def _teardown(aws: EmbeddedAWS, spec: NormalisedSpec, created: dict[str, Any]) -> dict[str, float]:
    from fargate_env import (
        cluster,
        execution_role,
        load_balancers,
        logs,
        security_groups,
        service,
        target_groups,
        task_definition,
    )

    env = spec["name"]
    start = aws.clock.now()
    service.delete(env, created["cluster"])
    _wait(aws, lambda: service.check_deleted(env, created["cluster"])["ready"], "tasks stopped")
    _retry_not_ready(aws, lambda: cluster.delete(env))
    task_definition.delete_all(env)
    arns = [m["arn"] for m in created["made"]]
    load_balancers.delete(env, arns)
    _wait(aws, lambda: load_balancers.check_deleted(arns)["ready"], "load balancers deleted")
    _retry_not_ready(
        aws, lambda: target_groups.delete(env, [m["target_group_arn"] for m in created["made"]])
    )
    _retry_not_ready(aws, lambda: security_groups.delete_for_environment(env, []))
    logs.delete(env)
    execution_role.delete(env)
    return {
        "teardown": aws.clock.now() - start,
        "billing": aws.plane.last_billing_moment() - start,
    }


def run(aws: EmbeddedAWS, name: str, spec: NormalisedSpec) -> BaselineRun:
    """Create then delete `spec` the `name` way ("runbook" or "cloudformation")."""
    with _deployment_environment(aws), aws.runner.acting_as(f"baseline-{name}"):
        created = _create(aws, spec, cloudformation=name == "cloudformation")
        deleted = _teardown(aws, spec, created)
    return BaselineRun(
        name=name,
        to_url=created["to_url"],
        create_done=created["create_done"],
        teardown=deleted["teardown"],
        billing=deleted["billing"],
    )
