"""Where moto answers differently from AWS in a way the flows meet, put right - for the
embedded AWS and for the unit tests' plain moto account alike.

- RunTask of a Fargate task definition where a container has no memory of its own (the task
  has it: ECS accepts this, RegisterTaskDefinition API reference, `memory`) fails in moto with a
  TypeError while it adds up the containers' memory; a task with a task-level size reserves that
  size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def install(patch: Callable[[Any, str, Any], None]) -> None:
    from moto.ecs.models import EC2ContainerServiceBackend

    original = EC2ContainerServiceBackend._calculate_task_resource_requirements

    def requirements(task_definition: Any) -> dict[str, Any]:
        if getattr(task_definition, "memory", None):
            return {
                "CPU": int(task_definition.cpu or 0),
                "MEMORY": int(task_definition.memory),
                "PORTS": [],
                "PORTS_UDP": [],
            }
        return dict(original(task_definition))

    patch(
        EC2ContainerServiceBackend,
        "_calculate_task_resource_requirements",
        staticmethod(requirements),
    )
