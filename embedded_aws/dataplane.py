"""The data plane moto does not play: what happens in AWS between the API calls.

moto keeps the control plane's records; nothing runs. Here, on the emulator's clock and after
the latency model: ECS starts each service's tasks (PROVISIONING -> PENDING -> RUNNING) and
registers their IPs in the target groups; targets turn healthy once the load balancer is active
and a health check passes; load balancers stay `provisioning` for their time to active; stopping
tasks drain for the deregistration delay, stop and release their network interfaces late, and
security groups cannot be deleted while an interface or another group's rule still uses them.

Every answer is a function of (what was called when, the latency model, the faults) and of the
caller's simulated time, so a run is deterministic.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from embedded_aws import task_launch
from embedded_aws.clock import Clock
from embedded_aws.faults import Faults
from embedded_aws.latency import LatencyModel
from embedded_aws.one_off_tasks import OneOffTasks
from embedded_aws.task_launch import Launch

if TYPE_CHECKING:
    from embedded_aws.container_logs import ContainerLogs

#: The private registry the samples name: pulling from it needs credentials.
EXAMPLE_PRIVATE_REGISTRY = "registry.example.com"


def failed_task_threshold(desired: int) -> int:
    """ECS deployment circuit breaker: half the desired count, at least 3, at most 200."""
    return min(max(math.ceil(desired / 2), 3), 200)


#: fargate-env's environment tag (fargate_env.naming.ENVIRONMENT_TAG).
ENVIRONMENT_TAG = "fargate-env:environment"


def forwarded_target_group(action: dict[str, Any]) -> str | None:
    """The target group a listener action forwards to (plain or ForwardConfig form)."""
    if action.get("TargetGroupArn"):
        return str(action["TargetGroupArn"])
    groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
    return str(groups[0]["TargetGroupArn"]) if groups else None


@dataclass
class SimLoadBalancer:
    arn: str
    name: str
    dns_name: str
    type: str
    security_groups: list[str]
    created_at: float
    active_after: float
    eni_release: float
    deleted_at: float | None = None
    #: Its network interfaces in moto (one per subnet): ELB describes them "ELB <type>/<name>/<id>".
    interface_ids: list[str] = field(default_factory=list)

    @property
    def active_at(self) -> float:
        return self.created_at + self.active_after

    def state(self, now: float) -> str:
        return "active" if now >= self.active_at else "provisioning"

    def holds_interfaces(self, now: float) -> bool:
        return self.deleted_at is None or now < self.deleted_at + self.eni_release


@dataclass
class SimTask:
    """One task's life, as times. None: that moment has not come (or never will)."""

    task_id: str
    created_at: float
    running_at: float | None  # None: the task fails before it runs
    failed_at: float | None  # its essential container exited on its own
    stop_requested_at: float | None = None
    moto_task: Any = None
    #: The deployment that started it, and what it runs (a rolling update keeps both kinds).
    deployment_id: str = ""
    task_definition_arn: str = ""
    image: str = ""
    launch: Launch | None = None
    #: When it passes its first health check in every target group (None: not running).
    healthy_at: float | None = None

    def stopping_from(self) -> float | None:
        times = [t for t in (self.failed_at, self.stop_requested_at) if t is not None]
        return min(times) if times else None


@dataclass
class SimDeployment:
    """One deployment of a service: what its tasks run."""

    id: str
    task_definition_arn: str
    image: str
    launch: Launch | None
    failure_reason: str | None
    failed_at: float | None = None


@dataclass
class SimService:
    arn: str
    name: str
    cluster_name: str
    created_at: float
    desired: list[tuple[float, int]]
    target_groups: list[dict[str, Any]]  # {"arn", "port", "lb_arn"?}
    security_groups: list[str]
    subnets: list[str]
    circuit_breaker: bool
    stop_timeout: float
    image: str
    deployment_id: str
    task_definition_arn: str
    network_configuration: dict[str, Any]
    failure_reason: str | None
    #: The environment the service belongs to (its fargate-env:environment tag): the stand-in
    #: containers name it in their answers, as a way to tell environments of one gateway apart.
    environment: str | None = None
    #: What ECS's agent found starting tasks of its task definition (roles, secrets, pulls).
    launch: Launch | None = None
    deleted_at: float | None = None
    tasks: list[SimTask] = field(default_factory=list)
    failed_at: float | None = None  # the circuit breaker failed the deployment
    #: The circuit breaker rolls a failed deployment back to the previous one.
    rollback: bool = False
    cursor: float = 0.0  # the scheduler has made its decisions up to this moment
    #: The deployments replaced by UpdateService, oldest first (what a rollback returns to).
    previous: list[SimDeployment] = field(default_factory=list)
    #: Deployments the circuit breaker failed and rolled back (what describe_services reports).
    rolled_back: list[SimDeployment] = field(default_factory=list)

    def deployment(self) -> SimDeployment:
        """The primary deployment, as a record."""
        return SimDeployment(
            self.deployment_id,
            self.task_definition_arn,
            self.image,
            self.launch,
            self.failure_reason,
            self.failed_at,
        )

    def make_primary(self, deployment: SimDeployment) -> None:
        self.deployment_id = deployment.id
        self.task_definition_arn = deployment.task_definition_arn
        self.image = deployment.image
        self.launch = deployment.launch
        self.failure_reason = deployment.failure_reason
        self.failed_at = deployment.failed_at

    def desired_at(self, now: float) -> int:
        count = 0
        for moment, value in self.desired:
            if moment <= now:
                count = value
        return count


@dataclass(frozen=True)
class TaskLaunch:
    """A task that was started: its id, cluster and startedBy, and what its launch found."""

    task_id: str
    cluster: str
    started_by: str
    launch: Launch


class DataPlane:
    def __init__(
        self, clock: Clock, model: LatencyModel, faults: Faults, account_id: str, region: str
    ) -> None:
        self.clock = clock
        self.model = model
        self.faults = faults
        self.account_id = account_id
        self.region = region
        self.lock = threading.RLock()
        self.services: dict[str, SimService] = {}
        self.load_balancers: dict[str, SimLoadBalancer] = {}
        self.request_times: dict[str, float] = {}
        self._pending_deployment_configuration: dict[int, dict[str, Any]] = {}
        self.one_offs = OneOffTasks(self)
        #: Every task started, with what its launch found (see task_launch.py).
        self.launches: list[TaskLaunch] = []
        #: Registries whose images need credentials (repositoryCredentials) to be pulled.
        self.private_registries: set[str] = {EXAMPLE_PRIVATE_REGISTRY}
        self.container_logs: ContainerLogs | None = None

    # ------------------------------------------------------------------ backends
    def _ecs(self) -> Any:
        from moto.ecs.models import ecs_backends

        return ecs_backends[self.account_id][self.region]

    def _elbv2(self) -> Any:
        from moto.elbv2.models import elbv2_backends

        return elbv2_backends[self.account_id][self.region]

    def _ec2(self) -> Any:
        from moto.ec2.models import ec2_backends

        return ec2_backends[self.account_id][self.region]

    # ------------------------------------------------------------------ task launches
    def inspect_account(self) -> task_launch.Account:
        """The moto backends ECS's agent reads, and the world's settings."""
        from moto.iam.models import iam_backends
        from moto.logs.models import logs_backends
        from moto.secretsmanager.models import secretsmanager_backends
        from moto.ssm.models import ssm_backends

        return task_launch.Account(
            iam=iam_backends[self.account_id]["aws"],
            secretsmanager=secretsmanager_backends[self.account_id][self.region],
            ssm=ssm_backends[self.account_id][self.region],
            logs=logs_backends[self.account_id][self.region],
            account_id=self.account_id,
            region=self.region,
            private_registries=frozenset(self.private_registries),
            unhealthy_containers=frozenset(self.faults.unhealthy_containers),
            missing_images=frozenset(self.faults.missing_images),
        )

    def inspect(self, definition: Any) -> Launch:
        """What ECS's agent finds starting a task of `definition` (task_launch.py)."""
        return task_launch.inspect(definition, self.inspect_account())

    def record_launch(self, task_id: str, cluster: str, started_by: str, launch: Launch) -> None:
        with self.lock:
            self.launches.append(TaskLaunch(task_id, cluster, started_by, launch))

    # ------------------------------------------------------------------ load balancers
    def load_balancer_created(self, lb: Any) -> None:
        with self.lock:
            self.load_balancers[lb.arn] = SimLoadBalancer(
                arn=lb.arn,
                name=lb.name,
                dns_name=lb.dns_name,
                type=lb.type,
                security_groups=list(lb.security_groups or []),
                created_at=self.clock.now(),
                active_after=self.model.load_balancer_active_after(lb.type),
                eni_release=self.model.lb_eni_release_after_delete,
                interface_ids=self._create_interfaces(lb),
            )

    def _create_interfaces(self, lb: Any) -> list[str]:
        """One network interface per subnet, at a private address derived from the load
        balancer's ARN (deterministic), described as ELB describes its own."""
        ec2 = self._ec2()
        description = "ELB " + lb.arn.split(":loadbalancer/", 1)[1]
        host = 10 + int(hashlib.sha256(lb.arn.encode()).hexdigest(), 16) % 200
        created = []
        for subnet in lb.subnets:
            subnet = subnet if hasattr(subnet, "cidr_block") else ec2.get_subnet(subnet)
            address = str(ipaddress.ip_network(subnet.cidr_block)[host])
            interface = ec2.create_network_interface(
                subnet,
                address,
                group_ids=list(lb.security_groups or []),
                description=description,
            )
            created.append(interface.id)
        return created

    def load_balancer_deleted(self, arn: str) -> None:
        with self.lock:
            sim = self.load_balancers.get(arn)
            if sim is not None and sim.deleted_at is None:
                sim.deleted_at = self.clock.now()
                for interface_id in sim.interface_ids:
                    self._ec2().delete_network_interface(interface_id)

    def load_balancer_state(self, arn: str, now: float) -> str:
        sim = self.load_balancers.get(arn)
        return sim.state(now) if sim else "active"

    def _target_group_lb(self, tg_arn: str) -> SimLoadBalancer | None:
        """The load balancer whose listener (by its default action or one of its rules)
        forwards to this target group."""
        for lb in self._elbv2().load_balancers.values():
            for listener in lb.listeners.values():
                actions = list(listener.default_actions)
                for rule in listener.rules.values():
                    actions += list(getattr(rule, "actions", None) or [])
                for action in actions:
                    if forwarded_target_group(getattr(action, "data", None) or {}) == tg_arn:
                        return self.load_balancers.get(lb.arn)
        return None

    # ------------------------------------------------------------------ services and tasks
    def service_created(self, service: Any, task_definition: Any) -> None:
        now = self.clock.now()
        network = (service.network_configuration or {}).get("awsvpcConfiguration", {})
        container = (task_definition.container_definitions or [{}])[0]
        elbv2 = self._elbv2()
        groups = []
        for item in service.load_balancers or []:
            tg = elbv2.target_groups.get(item.get("targetGroupArn"))
            groups.append(
                {
                    "arn": item.get("targetGroupArn"),
                    "port": item.get("containerPort"),
                    "target_group": tg,
                }
            )
        breaker = (getattr(service, "_deployment_configuration", None) or {}).get(
            "deploymentCircuitBreaker", {}
        )
        with self.lock:
            self.services[service.arn] = SimService(
                arn=service.arn,
                name=service.name,
                cluster_name=service.cluster_name,
                created_at=now,
                desired=[(now, int(service.desired_count or 0))],
                target_groups=groups,
                security_groups=list(network.get("securityGroups", [])),
                subnets=list(network.get("subnets", [])),
                circuit_breaker=bool(breaker.get("enable")),
                rollback=bool(breaker.get("rollback")),
                stop_timeout=float(container.get("stopTimeout") or 30),
                image=str(container.get("image", "")),
                deployment_id=service.deployments[0]["id"] if service.deployments else "ecs-svc/0",
                task_definition_arn=service.task_definition,
                network_configuration=service.network_configuration or {},
                failure_reason=self.faults.tasks_stop_reason,
                environment=next(
                    (
                        str(tag.get("value"))
                        for tag in getattr(service, "tags", None) or []
                        if tag.get("key") == ENVIRONMENT_TAG
                    ),
                    None,
                ),
                launch=self.inspect(task_definition),
                cursor=now,
            )

    def service_scaled(self, arn: str, desired: int) -> None:
        with self.lock:
            sim = self.services.get(arn)
            if sim is not None:
                sim.desired.append((self.clock.now(), desired))

    def service_deleted(self, arn: str) -> None:
        with self.lock:
            sim = self.services.get(arn)
            if sim is not None and sim.deleted_at is None:
                now = self.clock.now()
                sim.deleted_at = now
                sim.desired.append((now, 0))

    def _task_id(self, sim: SimService, index: int) -> str:
        digest = hashlib.sha256(f"{sim.arn}:{sim.created_at}:{index}".encode()).hexdigest()
        return f"{digest[:8]}{digest[8:12]}{digest[12:32]}"

    def _launch(self, sim: SimService, at: float) -> SimTask:
        launch = sim.launch or Launch(sim.task_definition_arn, None, None)
        started = at + self.model.task_start
        if launch.failure is not None:
            running_at, failed_at = None, started + launch.failure_delay
        elif sim.failure_reason is not None:
            running_at, failed_at = None, started
        else:
            running_at, failed_at = started + launch.start_delay, None
        task = SimTask(
            task_id=self._task_id(sim, len(sim.tasks)),
            created_at=at,
            running_at=running_at,
            failed_at=failed_at,
            deployment_id=sim.deployment_id,
            task_definition_arn=sim.task_definition_arn,
            image=sim.image,
            launch=launch,
        )
        task.healthy_at = self._healthy_everywhere_at(sim, task)
        sim.tasks.append(task)
        self.launches.append(TaskLaunch(task.task_id, sim.cluster_name, sim.deployment_id, launch))
        return task

    def _group_health(self, group: dict[str, Any]) -> tuple[SimLoadBalancer | None, float]:
        """The load balancer forwarding to a target group, and the group's check interval."""
        tg = group.get("target_group")
        interval = float(getattr(tg, "health_check_interval_seconds", 30) or 30)
        return self._target_group_lb(group["arn"]), interval

    def _healthy_at(self, task: SimTask, lb: SimLoadBalancer | None, interval: float) -> float:
        """When a running task's target passes its first health checks (inf: never checked)."""
        if task.running_at is None:
            return math.inf
        registered = task.running_at
        if lb is not None and lb.type == "network":
            registered += self.model.nlb_target_registration
        checks_from = max(registered, lb.active_at) if lb is not None else math.inf
        return checks_from + interval * self.model.health_checks_until_healthy

    def _healthy_everywhere_at(self, sim: SimService, task: SimTask) -> float | None:
        """When the task is healthy in every target group of its service (what a rolling
        update waits for before it stops an old task); None when it never is."""
        if task.running_at is None:
            return None
        moments = [
            self._healthy_at(task, *self._group_health(group)) for group in sim.target_groups
        ]
        moment = max(moments, default=task.running_at)
        return None if math.isinf(moment) else moment

    def _deregistration_delay(self, sim: SimService) -> float:
        delays = [0.0]
        for group in sim.target_groups:
            tg = group.get("target_group")
            if tg is not None:
                delays.append(float(tg.attributes.get("deregistration_delay.timeout_seconds", 300)))
        return max(delays)

    def stopped_at(self, sim: SimService, task: SimTask) -> float | None:
        start = task.stopping_from()
        if start is None:
            return None
        if task.running_at is None or start < task.running_at:
            return start + self.model.task_deprovisioning
        exit_after = min(sim.stop_timeout, self.model.task_exit_after_sigterm)
        return start + self._deregistration_delay(sim) + exit_after + self.model.task_deprovisioning

    def task_status(self, sim: SimService, task: SimTask, now: float) -> str:
        stopped = self.stopped_at(sim, task)
        if stopped is not None and now >= stopped:
            return "STOPPED"
        stopping = task.stopping_from()
        if stopping is not None and now >= stopping:
            if task.running_at is None or stopping < task.running_at:
                return "DEPROVISIONING"  # never ran (or failed to start): only the ENI to detach
            drained = stopping + self._deregistration_delay(sim)
            if now < drained:
                return "DEACTIVATING"
            exit_after = min(sim.stop_timeout, self.model.task_exit_after_sigterm)
            return "STOPPING" if now < drained + exit_after else "DEPROVISIONING"
        if task.running_at is not None and now >= task.running_at:
            return "RUNNING"
        return "PROVISIONING" if now < task.created_at + self.model.task_provisioning else "PENDING"

    def _decide(self, sim: SimService, moment: float) -> None:
        """The ECS service scheduler at `moment` (idempotent): launch the primary deployment's
        tasks up to the desired count, replacing failed tasks a scheduling pass later; stop
        tasks beyond it; trip the circuit breaker after too many failures (rolling back to the
        previous deployment when it may); stop the older deployments' tasks one for each of the
        primary's that is healthy (rolling update: maximum 200%, minimum healthy 100%)."""
        desired = sim.desired_at(moment)
        primary = [t for t in sim.tasks if t.deployment_id == sim.deployment_id]
        failed = [t for t in primary if t.failed_at is not None and t.failed_at <= moment]
        threshold = failed_task_threshold(max(desired, 1))
        if sim.circuit_breaker and sim.failed_at is None and len(failed) >= threshold:
            sim.failed_at = moment
            if sim.rollback and sim.previous:
                self._roll_back(sim, moment)
                self._decide(sim, moment)
                return
        live = [t for t in sim.tasks if (stop := t.stopping_from()) is None or stop > moment]
        live_primary = [t for t in live if t.deployment_id == sim.deployment_id]
        delay = self.model.task_replacement_after_failure
        awaiting_replacement = [
            t for t in failed if t.failed_at is not None and moment < t.failed_at + delay
        ]
        if len(live_primary) > desired:
            for task in sorted(live_primary, key=lambda t: t.created_at, reverse=True)[
                : len(live_primary) - desired
            ]:
                task.stop_requested_at = moment
        elif sim.failed_at is None and sim.deleted_at is None:
            for _ in range(desired - len(live_primary) - len(awaiting_replacement)):
                self._launch(sim, moment)
        healthy = [t for t in live_primary if t.healthy_at is not None and t.healthy_at <= moment]
        older = [t for t in live if t.deployment_id != sim.deployment_id]
        keep = max(0, desired - len(healthy)) if sim.deleted_at is None else 0

        # Minimum healthy 100%: the ones not serving go first, so what serves stays serving.
        def serving_last(task: SimTask) -> tuple[bool, float]:
            return task.healthy_at is not None and task.healthy_at <= moment, task.created_at

        for task in sorted(older, key=serving_last)[: max(0, len(older) - keep)]:
            task.stop_requested_at = moment

    def _roll_back(self, sim: SimService, moment: float) -> None:
        """The circuit breaker's rollback: the last deployment before the failed one is primary
        again (its tasks kept serving); the failed one's tasks stop."""
        sim.rolled_back.append(sim.deployment())
        failed_id = sim.deployment_id
        sim.make_primary(sim.previous.pop())
        for task in sim.tasks:
            if task.deployment_id == failed_id and task.stopping_from() is None:
                task.stop_requested_at = moment

    def deployed(self, arn: str, definition: Any, configuration: dict[str, Any]) -> None:
        """UpdateService with a new task definition (or a forced deployment): a new primary
        deployment; the current one's tasks serve until the new ones are healthy."""
        with self.lock:
            sim = self.services.get(arn)
            if sim is None:
                return
            now = self.clock.now()
            self._advance_service(sim, now)
            sim.cursor = now
            sim.previous.append(sim.deployment())
            breaker = configuration.get("deploymentCircuitBreaker")
            if breaker is not None:
                sim.circuit_breaker = bool(breaker.get("enable"))
                sim.rollback = bool(breaker.get("rollback"))
            container = (definition.container_definitions or [{}])[0]
            digest = hashlib.sha256(f"{arn}:{now}:{len(sim.previous)}".encode()).hexdigest()
            sim.make_primary(
                SimDeployment(
                    id=f"ecs-svc/{int(digest[:12], 16)}",
                    task_definition_arn=definition.arn,
                    image=str(container.get("image", "")),
                    launch=self.inspect(definition),
                    failure_reason=self.faults.tasks_stop_reason,
                )
            )
            sim.stop_timeout = float(container.get("stopTimeout") or sim.stop_timeout)

    def _advance_service(self, sim: SimService, now: float) -> None:
        """Run the scheduler over every decision point up to `now`."""
        while True:
            self._decide(sim, sim.cursor)
            delay = self.model.task_replacement_after_failure
            upcoming = [m for m, _ in sim.desired if m > sim.cursor]
            upcoming += [t.failed_at for t in sim.tasks if t.failed_at and t.failed_at > sim.cursor]
            upcoming += [
                t.failed_at + delay
                for t in sim.tasks
                if t.failed_at and t.failed_at + delay > sim.cursor
            ]
            upcoming += [
                t.healthy_at for t in sim.tasks if t.healthy_at and t.healthy_at > sim.cursor
            ]
            following = min(upcoming, default=None)
            if following is None or following > now:
                return
            sim.cursor = following

    # ------------------------------------------------------------------ views at a time
    def _moto_task(self, sim: SimService, task: SimTask) -> Any:
        if task.moto_task is not None:
            return task.moto_task
        from moto.ecs.models import Task

        ecs = self._ecs()
        cluster = ecs.clusters[sim.cluster_name]
        definition = ecs.describe_task_definition(task.task_definition_arn)
        moto_task = Task(
            cluster=cluster,
            task_definition=definition,
            container_instance_arn=None,
            resource_requirements=None,
            backend=ecs,
            group=f"service:{sim.name}",
            launch_type="FARGATE",
            started_by=task.deployment_id,
            networking_configuration=sim.network_configuration,
        )
        moto_task.id = task.task_id
        ecs.tasks.setdefault(sim.cluster_name, {})[moto_task.task_arn] = moto_task
        task.moto_task = moto_task
        return moto_task

    def _task_ip(self, task: SimTask) -> str:
        for attachment in getattr(task.moto_task, "attachments", []):
            for detail in attachment.get("details", []):
                if detail.get("name") == "privateIPv4Address":
                    return str(detail["value"])
        return "10.0.0.1"

    def sync_tasks(self, now: float) -> None:
        """Make moto's task records show the world at `now`."""
        with self.lock:
            self.one_offs.sync(now)
            for sim in self.services.values():
                self._advance_service(sim, now)
                for task in sim.tasks:
                    if task.created_at > now:
                        continue
                    moto_task = self._moto_task(sim, task)
                    status = self.task_status(sim, task, now)
                    moto_task.status = status
                    stopping = task.stopping_from()
                    stopping_now = stopping is not None and now >= stopping
                    moto_task.desired_status = "STOPPED" if stopping_now else "RUNNING"
                    for container in moto_task.containers:
                        container.last_status = (
                            status if status in ("RUNNING", "STOPPED") else "PENDING"
                        )
                    launch_failure = task.launch.failure if task.launch else None
                    if task.failed_at is not None and now >= task.failed_at and launch_failure:
                        # It never started: the agent's reason, no container ran.
                        moto_task.stopped_reason = launch_failure
                        for container in moto_task.containers:
                            container.exitCode = container.exit_code = None
                    elif task.failed_at is not None and now >= task.failed_at:
                        moto_task.stopped_reason = "Essential container in task exited"
                        for container in moto_task.containers:
                            container.exitCode = 1
                            container.exit_code = 1
                            container.reason = sim.failure_reason
                    elif stopping_now:
                        moto_task.stopped_reason = (
                            "Scaling activity initiated by (deployment " + task.deployment_id + ")"
                        )

    def target_states(self, tg_arn: str, now: float) -> list[dict[str, Any]]:
        """What DescribeTargetHealth answers for a target group at `now`."""
        return [state for state, _ in self._targets(tg_arn, now)]

    def serving(self, tg_arn: str, now: float) -> list[SimTask]:
        """The tasks the load balancer sends requests to at `now`: its healthy targets."""
        return [task for state, task in self._targets(tg_arn, now) if state["State"] == "healthy"]

    def _targets(self, tg_arn: str, now: float) -> list[tuple[dict[str, Any], SimTask]]:
        """Each target of a target group at `now`, with its task."""
        with self.lock:
            states: list[tuple[dict[str, Any], SimTask]] = []
            lb = self._target_group_lb(tg_arn)
            for sim in self.services.values():
                group = next((g for g in sim.target_groups if g["arn"] == tg_arn), None)
                if group is None:
                    continue
                self._advance_service(sim, now)
                interval = self._group_health(group)[1]
                for task in sim.tasks:
                    if task.running_at is None or task.running_at > now or task.moto_task is None:
                        continue
                    stopping = task.stopping_from()
                    target = {"Id": self._task_ip(task), "Port": int(group["port"] or 80)}
                    if stopping is not None and now >= stopping:
                        if now < stopping + self._deregistration_delay(sim):
                            draining = {
                                "State": "draining",
                                "Reason": "Target.DeregistrationInProgress",
                            }
                            states.append(({**target, **draining}, task))
                        continue
                    if now >= self._healthy_at(task, lb, interval):
                        state = {"State": "healthy"}
                    elif lb is None:
                        state = {"State": "unused", "Reason": "Target.NotInUse"}
                    else:
                        state = {"State": "initial", "Reason": "Elb.RegistrationInProgress"}
                    states.append(({**target, **state}, task))
            return states

    def healthy_targets(self, tg_arn: str, now: float) -> int:
        return sum(1 for target in self.target_states(tg_arn, now) if target["State"] == "healthy")

    def sync_service(self, service: Any, now: float) -> None:
        """Make moto's service record show the world at `now`."""
        with self.lock:
            sim = self.services.get(service.arn)
            if sim is None:
                return
            self._advance_service(sim, now)
            self.sync_tasks(now)
            statuses = [
                self.task_status(sim, task, now) for task in sim.tasks if task.created_at <= now
            ]
            running = statuses.count("RUNNING")
            pending = sum(1 for s in statuses if s in ("PROVISIONING", "PENDING"))
            desired = sim.desired_at(now)
            if sim.deleted_at is not None and now >= sim.deleted_at:
                service.status = "INACTIVE" if all(s == "STOPPED" for s in statuses) else "DRAINING"
            else:
                service.status = "ACTIVE"
            service.task_definition = sim.task_definition_arn
            service.desired_count = desired
            service.running_count = running
            service.pending_count = pending
            template = dict(service.deployments[0]) if service.deployments else {}
            service.deployments = [
                {**template, **self._deployment_view(sim, deployment, now)}
                for deployment in [sim.deployment(), *sim.previous]
                if deployment.id == sim.deployment_id or self._serving(sim, deployment.id, now)
            ]

    def _serving(self, sim: SimService, deployment_id: str, now: float) -> bool:
        """Whether a deployment still has tasks running or draining (an older deployment stays
        ACTIVE until then)."""
        return any(
            self.task_status(sim, task, now) in ("RUNNING", "DEACTIVATING")
            for task in sim.tasks
            if task.deployment_id == deployment_id and task.created_at <= now
        )

    def _deployment_view(
        self, sim: SimService, deployment: SimDeployment, now: float
    ) -> dict[str, Any]:
        """One entry of DescribeServices' `deployments`. The primary is COMPLETED once its
        tasks run at the desired count, healthy in every target group, and no older
        deployment's task still runs or drains."""
        tasks = [t for t in sim.tasks if t.deployment_id == deployment.id and t.created_at <= now]
        statuses = [self.task_status(sim, task, now) for task in tasks]
        running = statuses.count("RUNNING")
        pending = sum(1 for s in statuses if s in ("PROVISIONING", "PENDING"))
        failed = sum(1 for t in tasks if t.failed_at is not None and t.failed_at <= now)
        primary = deployment.id == sim.deployment_id
        desired = sim.desired_at(now) if primary else running
        if not primary:
            rollout, reason = "COMPLETED", f"ECS deployment {deployment.id} completed."
        elif deployment.failed_at is not None and now >= deployment.failed_at:
            rollout = "FAILED"
            reason = f"ECS deployment circuit breaker: tasks failed to start ({failed} failed)."
        elif (
            running == desired
            and all(
                self.healthy_targets(group["arn"], now) >= desired for group in sim.target_groups
            )
            and not any(
                self._serving(sim, other.id, now)
                for other in sim.previous
                if other.id != sim.deployment_id
            )
        ):
            rollout, reason = "COMPLETED", f"ECS deployment {deployment.id} completed."
        else:
            rollout, reason = "IN_PROGRESS", f"ECS deployment {deployment.id} in progress."
        return {
            "id": deployment.id,
            "status": "PRIMARY" if primary else "ACTIVE",
            "taskDefinition": deployment.task_definition_arn,
            "desiredCount": desired,
            "runningCount": running,
            "pendingCount": pending,
            "failedTasks": failed,
            "rolloutState": rollout,
            "rolloutStateReason": reason,
        }

    # ------------------------------------------------------------------ security groups
    def security_group_in_use(self, group_id: str, now: float) -> str | None:
        """Why `group_id` cannot be deleted at `now` (None: it can)."""
        with self.lock:
            for lb in self.load_balancers.values():
                if group_id in lb.security_groups and lb.holds_interfaces(now):
                    return f"network interfaces of load balancer {lb.name}"
            for sim in self.services.values():
                if group_id not in sim.security_groups:
                    continue
                self._advance_service(sim, now)
                for task in sim.tasks:
                    if task.created_at > now:
                        continue
                    stopped = self.stopped_at(sim, task)
                    if stopped is None or now < stopped + self.model.task_eni_release_after_stop:
                        return f"the network interface of task {task.task_id}"
            one_off = self.one_offs.holds_interface(group_id, now)
            if one_off is not None:
                return one_off
        for groups in self._ec2().groups.values():
            for other in groups.values():
                if other.id == group_id:
                    continue
                for rule in other.ingress_rules:
                    if (rule.source_group or {}).get("GroupId") == group_id:
                        return f"a rule of security group {other.id}"
        if self.faults.refuse_security_group_deletion():
            return "an injected dependency"
        return None

    # ------------------------------------------------------------------ what is left
    def last_billing_moment(self) -> float:
        """When the last task stopped or the last load balancer went (bench)."""
        moments = [0.0]
        with self.lock:
            for lb in self.load_balancers.values():
                if lb.deleted_at is not None:
                    moments.append(lb.deleted_at)
            for sim in self.services.values():
                for task in sim.tasks:
                    stopped = self.stopped_at(sim, task)
                    if stopped is not None:
                        moments.append(stopped)
        return max(moments)
