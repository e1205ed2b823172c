"""The containers' logs, offline: what the awslogs driver would send to CloudWatch Logs.

Each task's start lines are written to its stream (`<prefix>/<container>/<task id>`, the
awslogs naming) at the simulated moment it reached RUNNING, and every request a stand-in serves
adds an access-log line. Like the rest of the data plane, the world is brought up to the
reader's time when the logs are read (FilterLogEvents, GetLogEvents, DescribeLogStreams), so
`fenv logs` shows real log events. Events are written with the simulated time: CloudWatch's
"no older than 14 days" rule is relative to AWS's clock, which here is the simulated one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from embedded_aws.patches import Patches

if TYPE_CHECKING:
    from embedded_aws.dataplane import DataPlane, SimService, SimTask

_NGINX_START = (
    "/docker-entrypoint.sh: Configuration complete; ready for start up",
    "nginx: [notice] start worker processes",
)


class ContainerLogs:
    def __init__(self, plane: DataPlane) -> None:
        self.plane = plane
        self._patches = Patches()
        self._lock = threading.Lock()
        self._started: set[str] = set()  # task ids whose start lines are written
        self._served = 0  # requests logged: the tasks take turns, as a load balancer spreads them

    # ------------------------------------------------------------------ moto's logs backend
    def _backend(self) -> Any:
        from moto.logs.models import logs_backends

        return logs_backends[self.plane.account_id][self.plane.region]

    def _destination(self, sim: SimService) -> tuple[str, str, str] | None:
        """(log group, stream prefix, container name) of a service's task definition."""
        ecs = self.plane._ecs()
        try:
            definition = ecs.describe_task_definition(sim.task_definition_arn)
        except Exception:
            return None
        container = (definition.container_definitions or [{}])[0]
        configuration = container.get("logConfiguration") or {}
        options = configuration.get("options") or {}
        if configuration.get("logDriver") != "awslogs" or "awslogs-group" not in options:
            return None
        return (
            str(options["awslogs-group"]),
            str(options.get("awslogs-stream-prefix", "ecs")),
            str(container.get("name", "app")),
        )

    def _write(self, group: str, stream: str, at: float, messages: list[str]) -> None:
        backend = self._backend()
        log_group = backend.groups.get(group)
        if log_group is None:
            return  # deleted (torn down) or not created yet: the driver's writes fail too
        if stream not in log_group.streams:
            backend.create_log_stream(group, stream)
        millis = int((self.plane.clock.epoch + at) * 1000)
        log_group.put_log_events(
            stream, [{"timestamp": millis, "message": message} for message in messages]
        )

    # ------------------------------------------------------------------ what tasks log
    def _start_lines(self, sim: SimService, task: SimTask) -> list[str]:
        if "nginx" in sim.image:
            return list(_NGINX_START)
        return [f"fargate-env stand-in for {sim.image}: listening"]

    def sync(self, now: float) -> None:
        """Write the start lines of every task that reached RUNNING by `now`."""
        with self.plane.lock:
            services = list(self.plane.services.values())
            for sim in services:
                self.plane._advance_service(sim, now)
        for sim in services:
            destination = self._destination(sim)
            if destination is None:
                continue
            group, prefix, container = destination
            for task in list(sim.tasks):
                if task.running_at is None or task.running_at > now:
                    continue
                with self._lock:
                    if task.task_id in self._started:
                        continue
                    self._started.add(task.task_id)
                stream = f"{prefix}/{container}/{task.task_id}"
                self._write(group, stream, task.running_at, self._start_lines(sim, task))

    def request(self, target_group: str, at: float, line: str) -> None:
        """An access-log line from the task serving a request to `target_group` at `at`."""
        self.sync(at)
        for sim in list(self.plane.services.values()):
            if not any(group["arn"] == target_group for group in sim.target_groups):
                continue
            running = [
                t
                for t in sim.tasks
                if self.plane.task_status(sim, t, at) == "RUNNING" and t.running_at is not None
            ]
            destination = self._destination(sim)
            if not running or destination is None:
                return
            with self._lock:
                self._served += 1
                task = running[self._served % len(running)]
            group, prefix, container = destination
            self._write(group, f"{prefix}/{container}/{task.task_id}", at, [line])
            return

    # ------------------------------------------------------------------ install
    def install(self) -> None:
        from moto.logs.models import LogsBackend

        def synced(original: Callable[..., Any]) -> Callable[..., Any]:
            def read(backend: Any, *args: Any, **kwargs: Any) -> Any:
                self.sync(self.plane.clock.now())
                return original(backend, *args, **kwargs)

            return read

        for name in ("filter_log_events", "get_log_events", "describe_log_streams"):
            self._patches.set(LogsBackend, name, synced(getattr(LogsBackend, name)))

    def uninstall(self) -> None:
        self._patches.undo()
