"""The data plane's hooks into moto: each wraps one moto backend method so that what moto
records also moves the simulated world (DataPlane) along, or answers from it.

One named factory per hook, `_<method>(plane, original) -> replacement`, and one table (HOOKS)
saying where each goes; `install` applies the table through the emulator's patch table, so
closing the emulator puts every method back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from moto.core.responses import BaseResponse
from moto.ec2.exceptions import DependencyViolationError
from moto.ec2.models import EC2Backend
from moto.ecs.exceptions import InvalidParameterException
from moto.ecs.models import EC2ContainerServiceBackend
from moto.elbv2.models import ELBv2Backend, FakeLoadBalancer

if TYPE_CHECKING:
    from embedded_aws.dataplane import DataPlane

#: Checks an API request before moto answers it: a refusal to return instead, or None.
ApiCallCheck = Callable[[Any, str], Any]
Patch = Callable[[Any, str, Any], None]
Hook = Callable[["DataPlane", Callable[..., Any]], Callable[..., Any]]


def _call_action(
    plane: DataPlane, original: Callable[..., Any], on_api_call: ApiCallCheck
) -> Callable[..., Any]:
    """Every API request: the emulator's checks first (strict rules, faults), and the deployment
    configuration moto drops, kept for the circuit breaker."""

    def call_action(response: Any) -> Any:
        action = response._get_action()
        refused = on_api_call(response, action)
        if refused is not None:
            return refused
        if action in ("CreateService", "UpdateService"):
            # moto drops deploymentConfiguration: keep it for the circuit breaker.
            plane._pending_deployment_configuration[threading.get_ident()] = (
                response._get_param("deploymentConfiguration") or {}
            )
        return original(response)

    return call_action


def _create_service(plane: DataPlane, original: Callable[..., Any]) -> Callable[..., Any]:
    def create_service(
        backend: Any, cluster_str: str, service_name: str, *args: Any, **kwargs: Any
    ) -> Any:
        now = plane.clock.now()
        cluster = backend._get_cluster(cluster_str)
        existing = backend.services.get(f"{cluster.name}:{service_name}")
        if existing is not None:
            plane.sync_service(existing, now)
            if existing.status == "DRAINING":
                raise InvalidParameterException("Unable to Start a service that is still Draining.")
            if existing.status == "ACTIVE":
                raise InvalidParameterException("Creation of service was not idempotent.")
        service = original(backend, cluster_str, service_name, *args, **kwargs)
        definition = backend.describe_task_definition(service.task_definition)
        service._deployment_configuration = plane._pending_deployment_configuration.pop(
            threading.get_ident(), {}
        )
        plane.service_created(service, definition)
        plane.sync_service(service, now)
        return service

    return create_service


def _update_service(plane: DataPlane, original: Callable[..., Any]) -> Callable[..., Any]:
    def update_service(backend: Any, properties: dict[str, Any]) -> Any:
        desired = properties.get("desired_count")
        wanted = properties.get("task_definition")
        forced = bool(properties.get("force_new_deployment"))
        configuration = plane._pending_deployment_configuration.pop(threading.get_ident(), {})
        before = backend._get_service(properties.get("cluster", "default"), properties["service"])
        plane.sync_service(before, plane.clock.now())
        current = before.task_definition
        service = original(backend, properties)
        if desired is not None:
            plane.service_scaled(service.arn, int(desired))
        if wanted is not None or forced:
            # Only a request naming a revision reads it (a scale-down to zero after the
            # revisions were deleted, as a resumed teardown does, must not).
            definition = backend.describe_task_definition(service.task_definition)
            # ECS keeps the task definition's full ARN, whatever form the request named.
            service.task_definition = definition.arn
            if definition.arn != current or forced:
                plane.deployed(service.arn, definition, configuration)
        plane.sync_service(service, plane.clock.now())
        return service

    return update_service


def _delete_service(plane: DataPlane, original: Callable[..., Any]) -> Callable[..., Any]:
    def delete_service(backend: Any, cluster_name: str, service_name: str, force: bool) -> Any:
        service = original(backend, cluster_name, service_name, force)
        plane.service_deleted(service.arn)
        plane.sync_service(service, plane.clock.now())
        return service

    return delete_service


def _describe_services(plane: DataPlane, original: Callable[..., Any]) -> Callable[..., Any]:
    def describe_services(backend: Any, cluster_str: str, names: list[str]) -> Any:
        services, failures = original(backend, cluster_str, names)
        now = plane.clock.now()
        for service in services:
            plane.sync_service(service, now)
        return services, failures

    return describe_services


def _list_tasks(plane: DataPlane, original: Callable[..., Any]) -> Callable[..., Any]:
    def list_tasks(
        backend: Any,
        cluster_str: Any = None,
        container_instance: Any = None,
        family: Any = None,
        started_by: Any = None,
        service_name: Any = None,
        desiredStatus: Any = None,
    ) -> Any:
        now = plane.clock.now()
        plane.sync_tasks(now)
        tasks = original(
            backend, cluster_str, container_instance, family, started_by, None, desiredStatus
        )
        created = {
            t.moto_task.task_arn
            for s in plane.services.values()
            for t in s.tasks
            if t.moto_task is not None and t.created_at <= now
        }
        known = {
            t.moto_task.task_arn
            for s in plane.services.values()
            for t in s.tasks
            if t.moto_task is not None
        }
        tasks = [t for t in tasks if t.task_arn in created or t.task_arn not in known]
        if cluster_str:
            # moto keeps a task when the cluster's name is in its cluster ARN, so fenv-demo
            # listed fenv-demo-nlb's tasks too; ECS lists the one cluster's tasks.
            cluster_arn = backend._get_cluster(cluster_str).arn
            tasks = [t for t in tasks if t.cluster_arn == cluster_arn]
        if service_name:
            name = service_name.split("/")[-1]
            tasks = [t for t in tasks if t.group == f"service:{name}"]
        return tasks

    return list_tasks


def _describe_tasks(plane: DataPlane, original: Callable[..., Any]) -> Callable[..., Any]:
    def describe_tasks(backend: Any, cluster_str: str, tasks: list[str]) -> Any:
        plane.sync_tasks(plane.clock.now())
        found = original(backend, cluster_str, tasks)
        # moto moves tasks along its own state machine while describing them.
        plane.sync_tasks(plane.clock.now())
        return found

    return describe_tasks


def _run_task(plane: DataPlane, original: Callable[..., Any]) -> Callable[..., Any]:
    def run_task(
        backend: Any, cluster_str: str, task_definition_str: str, *args: Any, **kwargs: Any
    ) -> Any:
        tasks = original(backend, cluster_str, task_definition_str, *args, **kwargs)
        definition = backend.describe_task_definition(task_definition_str)
        overrides = kwargs.get("overrides", args[1] if len(args) > 1 else None)
        for task in tasks:
            plane.one_offs.started(task, definition, overrides)
        return tasks

    return run_task


def _stop_task(plane: DataPlane, original: Callable[..., Any]) -> Callable[..., Any]:
    def stop_task(backend: Any, cluster_str: str, task_str: str, reason: str) -> Any:
        task = original(backend, cluster_str, task_str, reason)
        plane.one_offs.stop_requested(task.task_arn, reason)
        plane.sync_tasks(plane.clock.now())
        return task

    return stop_task


def _delete_cluster(plane: DataPlane, original: Callable[..., Any]) -> Callable[..., Any]:
    def delete_cluster(backend: Any, cluster_str: str) -> Any:
        from moto.core.exceptions import JsonRESTError

        now = plane.clock.now()
        cluster = backend._get_cluster(cluster_str)
        for service in backend.services.values():
            if service.cluster_name == cluster.name:
                plane.sync_service(service, now)
                if service.status in ("ACTIVE", "DRAINING"):
                    raise JsonRESTError(
                        "ClusterContainsServicesException",
                        "The Cluster cannot be deleted while Services are active.",
                    )
        plane.sync_tasks(now)
        for task in backend.tasks.get(cluster.name, {}).values():
            if task.status != "STOPPED":
                raise JsonRESTError(
                    "ClusterContainsTasksException",
                    "The Cluster cannot be deleted while Tasks are active.",
                )
        return original(backend, cluster_str)

    return delete_cluster


def _create_load_balancer(plane: DataPlane, original: Callable[..., Any]) -> Callable[..., Any]:
    def create_load_balancer(backend: Any, *args: Any, **kwargs: Any) -> Any:
        name = kwargs.get("name", args[0] if args else None)
        for lb in backend.load_balancers.values():
            if lb.name == name:
                from moto.elbv2.exceptions import DuplicateLoadBalancerName

                raise DuplicateLoadBalancerName()
        lb = original(backend, *args, **kwargs)
        plane.load_balancer_created(lb)
        return lb

    return create_load_balancer


def _delete_load_balancer(plane: DataPlane, original: Callable[..., Any]) -> Callable[..., Any]:
    def delete_load_balancer(backend: Any, arn: str) -> None:
        plane.load_balancer_deleted(arn)
        original(backend, arn)

    return delete_load_balancer


def _describe_load_balancers(plane: DataPlane, original: Callable[..., Any]) -> Callable[..., Any]:
    def describe_load_balancers(backend: Any, *args: Any, **kwargs: Any) -> Any:
        found = original(backend, *args, **kwargs)
        now = plane.clock.now()
        for lb in found:
            lb.state = plane.load_balancer_state(lb.arn, now)
        return found

    return describe_load_balancers


def _describe_target_health(plane: DataPlane, original: Callable[..., Any]) -> Callable[..., Any]:
    def describe_target_health(backend: Any, target_group_arn: str, targets: Any) -> Any:
        from moto.elbv2.exceptions import TargetGroupNotFoundError
        from moto.elbv2.models import FakeHealthStatus

        target_group = backend.target_groups.get(target_group_arn)
        if target_group is None:
            raise TargetGroupNotFoundError()
        return [
            FakeHealthStatus(
                state["Id"],
                state["Port"],
                target_group.health_check_port,
                state["State"],
                state.get("Reason"),
                None,
            )
            for state in plane.target_states(target_group_arn, plane.clock.now())
        ]

    return describe_target_health


def _delete_security_group(plane: DataPlane, original: Callable[..., Any]) -> Callable[..., Any]:
    def delete_security_group(backend: Any, name: Any = None, group_id: Any = None) -> None:
        if group_id:
            reason = plane.security_group_in_use(group_id, plane.clock.now())
            if reason is not None:
                raise DependencyViolationError(
                    f"resource {group_id} has a dependent object ({reason})"
                )
        original(backend, name=name, group_id=group_id)

    return delete_security_group


def _activate(plane: DataPlane, original: Callable[..., Any]) -> Callable[..., Any]:
    """moto turns a load balancer active at once; the data plane decides when (its state)."""

    def activate(lb: Any) -> None:
        return None

    return activate


#: (owner, method, hook): every moto method the data plane replaces.
HOOKS: tuple[tuple[type, str, Hook], ...] = (
    (EC2ContainerServiceBackend, "create_service", _create_service),
    (EC2ContainerServiceBackend, "update_service", _update_service),
    (EC2ContainerServiceBackend, "delete_service", _delete_service),
    (EC2ContainerServiceBackend, "describe_services", _describe_services),
    (EC2ContainerServiceBackend, "list_tasks", _list_tasks),
    (EC2ContainerServiceBackend, "describe_tasks", _describe_tasks),
    (EC2ContainerServiceBackend, "run_task", _run_task),
    (EC2ContainerServiceBackend, "stop_task", _stop_task),
    (EC2ContainerServiceBackend, "delete_cluster", _delete_cluster),
    (ELBv2Backend, "create_load_balancer", _create_load_balancer),
    (ELBv2Backend, "delete_load_balancer", _delete_load_balancer),
    (FakeLoadBalancer, "activate", _activate),
    (ELBv2Backend, "describe_load_balancers", _describe_load_balancers),
    (ELBv2Backend, "describe_target_health", _describe_target_health),
    (EC2Backend, "delete_security_group", _delete_security_group),
)


def install(plane: DataPlane, patch: Patch, on_api_call: ApiCallCheck) -> None:
    """Apply every hook, the request check first, through `patch` (it records what it replaced)."""
    original_call_action = BaseResponse.call_action
    patch(BaseResponse, "call_action", _call_action(plane, original_call_action, on_api_call))
    for owner, method, hook in HOOKS:
        patch(owner, method, hook(plane, getattr(owner, method)))
