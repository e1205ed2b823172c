"""RegisterTaskDefinition's rules that moto does not check, refused with ECS's ClientException
as AWS does (ECS API reference: RegisterTaskDefinition, ContainerDefinition,
ContainerDependency, EphemeralStorage; Amazon ECS service quotas):

- at most 10 containers, with unique names;
- a Fargate task's ephemeral storage is 21-200 GiB;
- a dependency names another container of the task; HEALTHY needs that container's health
  check; COMPLETE and SUCCESS cannot name an essential container;
- the containers' cpu and memory add up to at most the task's.
(The 64 KiB size of a task definition is the strict rules' ecs.task-definition-size.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

MAX_CONTAINERS: Final = 10
EPHEMERAL_STORAGE_GIB: Final = (21, 200)


def problems(
    containers: list[dict[str, Any]], cpu: str | None, memory: str | None, storage: Any
) -> list[str]:
    """ECS's complaints about a task definition (empty: it registers)."""
    found = []
    if len(containers) > MAX_CONTAINERS:
        found.append(f"Too many containers: {len(containers)} (at most {MAX_CONTAINERS})")
    names = [c.get("name") for c in containers]
    if len(names) != len(set(names)):
        found.append("Container names must be unique within a task definition")
    size = (storage or {}).get("sizeInGiB")
    if size is not None and not EPHEMERAL_STORAGE_GIB[0] <= int(size) <= EPHEMERAL_STORAGE_GIB[1]:
        found.append(
            f"Invalid 'ephemeralStorage.sizeInGiB' setting: {size}; it must be between "
            f"{EPHEMERAL_STORAGE_GIB[0]} and {EPHEMERAL_STORAGE_GIB[1]}"
        )
    by_name = {c.get("name"): c for c in containers}
    for container in containers:
        for dependency in container.get("dependsOn") or []:
            target = by_name.get(dependency.get("containerName"))
            condition = dependency.get("condition")
            where = (
                f"container {container.get('name')}: dependsOn {dependency.get('containerName')}"
            )
            if target is None or target is container:
                found.append(f"{where}: no such other container in the task definition")
            elif condition == "HEALTHY" and not target.get("healthCheck"):
                found.append(f"{where}: the HEALTHY condition needs a healthCheck on it")
            elif condition in ("COMPLETE", "SUCCESS") and target.get("essential", True):
                found.append(f"{where}: {condition} cannot be set on an essential container")
    for field, total in (("cpu", cpu), ("memory", memory)):
        used = sum(int(c.get(field) or 0) for c in containers)
        if total is not None and used > int(total):
            found.append(f"The containers' {field} ({used}) exceeds the task's {field} ({total})")
    return found


def install(patch: Callable[[Any, str, Any], None]) -> None:
    from moto.ecs.exceptions import EcsClientException
    from moto.ecs.models import EC2ContainerServiceBackend

    original = EC2ContainerServiceBackend.register_task_definition

    def register_task_definition(
        backend: Any,
        family: str,
        container_definitions: list[dict[str, Any]],
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        refused = problems(
            container_definitions,
            kwargs.get("cpu"),
            kwargs.get("memory"),
            kwargs.get("ephemeral_storage"),
        )
        if refused:
            raise EcsClientException("; ".join(refused))
        return original(backend, family, container_definitions, *args, **kwargs)

    patch(EC2ContainerServiceBackend, "register_task_definition", register_task_definition)
