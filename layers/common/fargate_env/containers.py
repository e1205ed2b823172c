"""The task's containers, read from the normalised spec: the main container (the one the load
balancers target) and its sidecars. What a rule about several containers needs - the names,
who waits for whom, the shares of the task's CPU and memory - is checked here, with every
problem named by its field, before anything is created (ECS would refuse the task definition
at RegisterTaskDefinition, half-way through the provisioning)."""

from __future__ import annotations

from typing import NamedTuple

from fargate_env.payloads import ContainerSpec, NormalisedSpec, SidecarSpec

MAIN = "container"


class Entry(NamedTuple):
    """One container: its field path in the spec, its spec, whether the task needs it."""

    path: str
    spec: ContainerSpec | SidecarSpec
    essential: bool


def entries(spec: NormalisedSpec) -> list[Entry]:
    """The main container first, then the sidecars in the spec's order."""
    found = [Entry(MAIN, spec["container"], True)]
    for index, sidecar in enumerate(spec.get("sidecars") or []):
        found.append(Entry(f"sidecars[{index}]", sidecar, bool(sidecar.get("essential", True))))
    return found


def secret_references(spec: NormalisedSpec) -> dict[str, str]:
    """Field path -> ARN of every secret any container reads (its variables and its registry
    credentials): what the task's execution role must be able to read."""
    found: dict[str, str] = {}
    for entry in entries(spec):
        for name, reference in sorted((entry.spec.get("secrets") or {}).items()):
            found[f"{entry.path}.secrets.{name}"] = reference
        credentials = entry.spec["registry_credentials_arn"]
        if credentials:
            found[f"{entry.path}.registry_credentials_arn"] = credentials
    return found


def images(spec: NormalisedSpec) -> dict[str, str]:
    """Field path -> image of every container."""
    return {f"{entry.path}.image": entry.spec["image"] for entry in entries(spec)}


def _name_problems(containers: list[Entry]) -> list[str]:
    problems = []
    seen: dict[str, str] = {}
    for entry in containers:
        name = entry.spec["name"]
        if name in seen:
            problems.append(
                f"{entry.path}.name: {name!r} is already the name of {seen[name]}; container "
                "names must be unique in the task"
            )
        seen.setdefault(name, entry.path)
    return problems


def _dependency_problems(containers: list[Entry]) -> list[str]:
    """ECS's ContainerDependency rules: the container exists and is another one; HEALTHY needs
    its health check; COMPLETE and SUCCESS cannot name an essential container."""
    by_name = {entry.spec["name"]: entry for entry in containers}
    problems = []
    for entry in containers:
        named: set[str] = set()
        for index, dependency in enumerate(entry.spec.get("depends_on") or []):
            field = f"{entry.path}.depends_on[{index}]"
            target, condition = dependency["container"], dependency["condition"]
            other = by_name.get(target)
            if target == entry.spec["name"]:
                problems.append(f"{field}.container: a container cannot depend on itself")
            elif other is None:
                problems.append(
                    f"{field}.container: no container {target!r} in the task (containers: "
                    f"{', '.join(sorted(by_name))})"
                )
            elif target in named:
                problems.append(f"{field}.container: {target!r} is named twice")
            elif condition == "HEALTHY" and not other.spec.get("health_check"):
                problems.append(
                    f"{field}.condition: HEALTHY needs a health check on {target!r} "
                    f"({other.path}.health_check)"
                )
            elif condition in ("COMPLETE", "SUCCESS") and other.essential:
                problems.append(
                    f"{field}.condition: {condition} waits for {target!r} to exit, so it must "
                    f"not be essential ({other.path}.essential: false)"
                )
            named.add(target)
    return problems or _cycle_problems(containers)


def _cycle_problems(containers: list[Entry]) -> list[str]:
    """A container that waits, through its dependencies, for itself never starts."""
    waits_for = {
        entry.spec["name"]: [d["container"] for d in entry.spec.get("depends_on") or []]
        for entry in containers
    }
    for entry in containers:
        start = entry.spec["name"]
        pending, seen = list(waits_for[start]), set()
        while pending:
            name = pending.pop()
            if name == start:
                cycle = f"{start!r} waits for itself through its dependencies"
                return [f"{entry.path}.depends_on: {cycle}"]
            if name not in seen:
                seen.add(name)
                pending.extend(waits_for.get(name, []))
    return []


def _share_problems(spec: NormalisedSpec) -> list[str]:
    """ECS: the containers' reserved CPU and hard memory limits add up to at most the task's;
    the main container has none of its own, so the sidecars must leave it some."""
    task_cpu, task_memory = int(spec["container"]["cpu"]), int(spec["container"]["memory"])
    sidecars = spec.get("sidecars") or []
    cpu = sum(int(sidecar.get("cpu") or 0) for sidecar in sidecars)
    memory = sum(int(sidecar.get("memory") or 0) for sidecar in sidecars)
    problems = []
    if cpu >= task_cpu:
        problems.append(
            f"sidecars: their cpu adds up to {cpu} of the task's {task_cpu} (container.cpu); "
            "leave some for the main container"
        )
    if memory >= task_memory:
        problems.append(
            f"sidecars: their memory adds up to {memory} MiB of the task's {task_memory} MiB "
            "(container.memory); leave some for the main container"
        )
    return problems


def problems(spec: NormalisedSpec) -> list[str]:
    """Every problem of the containers taken together (each field checked alone by the model)."""
    containers = entries(spec)
    return [*_name_problems(containers), *_dependency_problems(containers), *_share_problems(spec)]
