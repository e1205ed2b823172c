"""Tasks started by RunTask (the pre-traffic command), played on the emulator's clock: moto
records them RUNNING at once and they never end. Here a task provisions, starts (or fails to:
the agent's checks, task_launch.py), runs its command for the configured time, writes its log
lines, and exits with the configured code (faults.py: one_off_*); StopTask sends SIGTERM, and
the task stops after the container's exit (its stop timeout at most). Its network interface is
released a while after it stops, like a service task's.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from embedded_aws.container_logs import destinations
from embedded_aws.task_launch import Launch

if TYPE_CHECKING:
    from embedded_aws.dataplane import DataPlane

#: Exit code of a container stopped by SIGTERM (128 + 15).
SIGTERM_EXIT = 143


@dataclass
class SimOneOff:
    moto_task: Any
    created_at: float
    launch: Launch
    container: str
    command: list[str]
    exit_code: int
    log_lines: tuple[str, ...]
    run_seconds: float | None
    stop_timeout: float
    log_group: str | None
    log_stream: str | None
    stop_requested_at: float | None = None
    stop_reason: str = ""
    logged: bool = field(default=False)

    @property
    def task_id(self) -> str:
        return str(self.moto_task.id)

    def running_at(self, plane: DataPlane) -> float | None:
        if self.launch.failure is not None:
            return None
        return self.created_at + plane.model.task_start + self.launch.start_delay

    def ended_at(self, plane: DataPlane) -> float | None:
        """When its containers stopped (None: they still run, or have not started)."""
        if self.launch.failure is not None:
            return self.created_at + plane.model.task_start + self.launch.failure_delay
        running = self.running_at(plane)
        assert running is not None
        moments = []
        if self.run_seconds is not None:
            moments.append(running + self.run_seconds)
        if self.stop_requested_at is not None:
            exit_after = min(self.stop_timeout, plane.model.task_exit_after_sigterm)
            moments.append(max(self.stop_requested_at, running) + exit_after)
        return min(moments) if moments else None

    def exited_by_itself(self, plane: DataPlane) -> bool:
        running = self.running_at(plane)
        if running is None or self.run_seconds is None:
            return False
        return self.ended_at(plane) == running + self.run_seconds

    def stopped_at(self, plane: DataPlane) -> float | None:
        ended = self.ended_at(plane)
        return None if ended is None else ended + plane.model.task_deprovisioning

    def status(self, plane: DataPlane, now: float) -> str:
        stopped, ended = self.stopped_at(plane), self.ended_at(plane)
        if stopped is not None and now >= stopped:
            return "STOPPED"
        if ended is not None and now >= ended:
            return "DEPROVISIONING"
        running = self.running_at(plane)
        if running is not None and now >= running:
            requested = self.stop_requested_at is not None and now >= self.stop_requested_at
            return "STOPPING" if requested else "RUNNING"
        provisioned = self.created_at + plane.model.task_provisioning
        return "PROVISIONING" if now < provisioned else "PENDING"


def command_output(command: list[str]) -> tuple[str, ...]:
    """What a stand-in for `command` writes: the command (as `sh -x` would show it), then what
    its `echo`s would print."""
    shown = f"+ {shlex.join(command)}" if command else "+ (the image's command)"
    echoed = re.findall(r"\becho\s+([^&;|]+)", " ".join(command))
    return (shown, *(text.strip().strip("'\"") for text in echoed))


class OneOffTasks:
    def __init__(self, plane: DataPlane) -> None:
        self.plane = plane
        self.tasks: dict[str, SimOneOff] = {}  # by task ARN

    def started(self, moto_task: Any, definition: Any, overrides: dict[str, Any] | None) -> None:
        """A task RunTask created at the current moment."""
        plane = self.plane
        main = (definition.container_definitions or [{}])[0]
        command = list(main.get("command") or [])
        for override in (overrides or {}).get("containerOverrides") or []:
            if override.get("name") == main.get("name") and override.get("command"):
                command = list(override["command"])
        faults = plane.faults
        lines = faults.one_off_log_lines
        if lines is None:
            lines = command_output(command)
        logged = destinations(definition)
        destination = logged[0] if logged and logged[0][2] == main.get("name") else None
        launch = plane.inspect(definition)
        sim = SimOneOff(
            moto_task=moto_task,
            created_at=plane.clock.now(),
            launch=launch,
            container=str(main.get("name")),
            command=command,
            exit_code=faults.one_off_exit_code,
            log_lines=tuple(lines),
            run_seconds=faults.one_off_run_seconds,
            stop_timeout=float(main.get("stopTimeout") or 30),
            log_group=destination[0] if destination else None,
            log_stream=f"{destination[1]}/{destination[2]}/{moto_task.id}" if destination else None,
        )
        with plane.lock:
            self.tasks[moto_task.task_arn] = sim
            plane.record_launch(sim.task_id, moto_task.cluster_name, moto_task.started_by, launch)
        self.sync(sim.created_at)

    def stop_requested(self, task_arn: str, reason: str) -> None:
        sim = self.tasks.get(task_arn)
        if sim is not None and sim.stop_requested_at is None:
            sim.stop_requested_at = self.plane.clock.now()
            sim.stop_reason = reason

    def sync(self, now: float) -> None:
        """Make moto's records of the one-off tasks show the world at `now`."""
        plane = self.plane
        for sim in list(self.tasks.values()):
            task = sim.moto_task
            status = sim.status(plane, now)
            task.status = status
            ended = sim.ended_at(plane)
            done = ended is not None and now >= ended
            stop_asked = sim.stop_requested_at is not None and now >= sim.stop_requested_at
            task.desired_status = "STOPPED" if done or stop_asked else "RUNNING"
            for container in task.containers:
                container.last_status = status if status in ("RUNNING", "STOPPED") else "PENDING"
            if done:
                if sim.launch.failure is not None:
                    task.stopped_reason, code = sim.launch.failure, None
                elif sim.exited_by_itself(plane):
                    task.stopped_reason, code = "Essential container in task exited", sim.exit_code
                else:
                    task.stopped_reason, code = sim.stop_reason or "Task stopped", SIGTERM_EXIT
                for container in task.containers:
                    container.exitCode = container.exit_code = code
            running = sim.running_at(plane)
            if running is not None and now >= running and not sim.logged:
                sim.logged = True
                self._write_logs(sim, running)

    def _write_logs(self, sim: SimOneOff, at: float) -> None:
        if sim.log_group and sim.log_stream and self.plane.container_logs is not None:
            self.plane.container_logs.write(sim.log_group, sim.log_stream, at, list(sim.log_lines))

    def holds_interface(self, group_id: str, now: float) -> str | None:
        """Why `group_id` is still in use by a one-off task's network interface (None: it is
        not)."""
        for sim in self.tasks.values():
            groups = (
                (getattr(sim.moto_task, "network_configuration", None) or {})
                .get("awsvpcConfiguration", {})
                .get("securityGroups", [])
            )
            stopped = sim.stopped_at(self.plane)
            released = (
                stopped is not None
                and now >= stopped + self.plane.model.task_eni_release_after_stop
            )
            if group_id in groups and not released:
                return f"the network interface of task {sim.task_id}"
        return None
