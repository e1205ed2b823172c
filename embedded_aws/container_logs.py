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

if TYPE_CHECKING:
    from embedded_aws.dataplane import DataPlane, SimService

_NGINX_START = (
    "/docker-entrypoint.sh: Configuration complete; ready for start up",
    "nginx: [notice] start worker processes",
)


def destinations(definition: Any) -> list[tuple[str, str, str, str]]:
    """(log group, stream prefix, container name, image) of each container of a task definition
    (moto's) that logs with the awslogs driver; the main container first."""
    found = []
    for container in definition.container_definitions or []:
        configuration = container.get("logConfiguration") or {}
        options = configuration.get("options") or {}
        if configuration.get("logDriver") == "awslogs" and "awslogs-group" in options:
            found.append(
                (
                    str(options["awslogs-group"]),
                    str(options.get("awslogs-stream-prefix", "ecs")),
                    str(container.get("name", "app")),
                    str(container.get("image", "")),
                )
            )
    return found


class ContainerLogs:
    def __init__(self, plane: DataPlane) -> None:
        self.plane = plane
        self._lock = threading.Lock()
        self._started: set[str] = set()  # task ids whose start lines are written
        self._served = 0  # requests logged: the tasks take turns, as a load balancer spreads them

    # ------------------------------------------------------------------ moto's logs backend
    def _backend(self) -> Any:
        from moto.logs.models import logs_backends

        return logs_backends[self.plane.account_id][self.plane.region]

    def _destinations(self, sim: SimService) -> list[tuple[str, str, str, str]]:
        try:
            definition = self.plane._ecs().describe_task_definition(sim.task_definition_arn)
        except Exception:
            return []
        return destinations(definition)

    def write(self, group: str, stream: str, at: float, messages: list[str]) -> None:
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
    @staticmethod
    def _start_lines(image: str) -> list[str]:
        if "nginx" in image:
            return list(_NGINX_START)
        return [f"fargate-env stand-in for {image}: listening"]

    def sync(self, now: float) -> None:
        """Write the start lines of every container of every task that reached RUNNING by
        `now` (and what the one-off tasks wrote)."""
        with self.plane.lock:
            services = list(self.plane.services.values())
            for sim in services:
                self.plane._advance_service(sim, now)
            self.plane.one_offs.sync(now)
        for sim in services:
            destinations = self._destinations(sim)
            for task in list(sim.tasks):
                if task.running_at is None or task.running_at > now:
                    continue
                with self._lock:
                    if task.task_id in self._started:
                        continue
                    self._started.add(task.task_id)
                for group, prefix, container, image in destinations:
                    stream = f"{prefix}/{container}/{task.task_id}"
                    self.write(group, stream, task.running_at, self._start_lines(image))

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
            destinations = self._destinations(sim)
            if not running or not destinations:
                return
            with self._lock:
                self._served += 1
                task = running[self._served % len(running)]
            group, prefix, container, _ = destinations[0]  # the main container serves
            self.write(group, f"{prefix}/{container}/{task.task_id}", at, [line])
            return

    # ------------------------------------------------------------------ install
    def install(self, patch: Callable[[Any, str, Any], None]) -> None:
        """Reading a log group first writes what the tasks printed up to the reader's time."""
        from moto.logs.models import LogsBackend

        def synced(original: Callable[..., Any]) -> Callable[..., Any]:
            def read(backend: Any, *args: Any, **kwargs: Any) -> Any:
                self.sync(self.plane.clock.now())
                return original(backend, *args, **kwargs)

            return read

        for name in ("filter_log_events", "get_log_events", "describe_log_streams"):
            patch(LogsBackend, name, synced(getattr(LogsBackend, name)))
