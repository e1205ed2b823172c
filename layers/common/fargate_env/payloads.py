"""The shapes of the data that travels between the steps, as TypedDicts: types for mypy, plain
dicts at run time (no cost at cold start, nothing to convert at the state machine's boundary).

- The normalised spec (spec.normalise: the model's JSON form, every default filled in; a unit
  test keeps these keys equal to the model's, recursively).
- The network (network.resolve), a load balancer's record (load_balancers.ensure), the
  inventory (inventory.py) and the registry's item (registry.py).
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

# -- the normalised spec (spec.py's models, in their JSON form) --------------------------------


class ContainerHealthCheckSpec(TypedDict):
    command: list[str]
    interval_seconds: int
    timeout_seconds: int
    retries: int
    start_period_seconds: int


class EfsVolumeSpec(TypedDict):
    file_system_id: str
    root_directory: str
    transit_encryption: bool
    access_point_id: str | None


class VolumeSpec(TypedDict):
    name: str
    container_path: str
    read_only: bool
    efs: EfsVolumeSpec | None


class UlimitSpec(TypedDict):
    name: Literal["nofile"]
    soft_limit: int
    hard_limit: int


class ContainerDependencySpec(TypedDict):
    container: str
    condition: Literal["START", "HEALTHY", "COMPLETE", "SUCCESS"]


class ContainerFields(TypedDict):
    """What the main container and a sidecar both have."""

    name: str
    image: str
    cpu: int
    command: list[str] | None
    entry_point: list[str] | None
    working_directory: str | None
    user: str | None
    environment: dict[str, str]
    secrets: dict[str, str]
    health_check: ContainerHealthCheckSpec | None
    depends_on: list[ContainerDependencySpec]
    read_only_root_filesystem: bool
    registry_credentials_arn: str | None


class ContainerSpec(ContainerFields):
    port: int
    memory: int
    cpu_architecture: Literal["X86_64", "ARM64"]
    volumes: list[VolumeSpec]
    init_process: bool
    ulimits: list[UlimitSpec]
    ephemeral_storage_gib: int | None
    task_role_arn: str | None
    log_retention_days: int
    stop_timeout_seconds: int


class SidecarSpec(ContainerFields):
    essential: bool
    memory: int | None


class PreTrafficTaskSpec(TypedDict):
    command: list[str]
    timeout_seconds: int
    run_on_update: bool


class TargetHealthCheckSpec(TypedDict):
    path: str
    port: str
    protocol: Literal["HTTP", "HTTPS", "TCP"]
    interval_seconds: int
    timeout_seconds: int
    healthy_threshold: int
    unhealthy_threshold: int
    matcher: str


class StickinessSpec(TypedDict):
    type: Literal["lb_cookie", "source_ip"]
    duration_seconds: int


Protocol = Literal["HTTP", "HTTPS", "TCP", "TLS"]


class TargetGroupSpec(TypedDict):
    protocol: Protocol  # normalised: HTTP behind an ALB, TCP behind an NLB when not given
    deregistration_delay_seconds: int
    health_check: TargetHealthCheckSpec
    stickiness: StickinessSpec | None


class ListenerSpec(TypedDict):
    port: int
    protocol: Protocol
    certificate_arn: str | None
    ssl_policy: str | None  # normalised: the default policy on HTTPS/TLS
    redirect_to_https: bool


class AuthenticationSpec(TypedDict):
    type: Literal["oidc", "cognito"]
    issuer: str | None
    authorization_endpoint: str | None
    token_endpoint: str | None
    user_info_endpoint: str | None
    client_id: str | None
    client_secret_arn: str | None
    user_pool_arn: str | None
    user_pool_client_id: str | None
    user_pool_domain: str | None
    scope: str
    session_cookie_name: str
    session_timeout_seconds: int
    on_unauthenticated_request: Literal["authenticate", "deny", "allow"]


class LoadBalancerSpec(TypedDict):
    id: str
    type: Literal["application", "network"]
    scheme: Literal["internet-facing", "internal"]
    listeners: list[ListenerSpec]  # normalised: the effective listeners, never None
    ingress_cidrs: list[str]
    target_group: TargetGroupSpec
    authentication: AuthenticationSpec | None


class CapacityProviderSpec(TypedDict):
    provider: Literal["FARGATE", "FARGATE_SPOT"]
    weight: int
    base: int


class ClusterSpec(TypedDict):
    container_insights: bool
    capacity_providers: list[CapacityProviderSpec]


class ServiceSpec(TypedDict):
    desired_count: int
    health_check_grace_period_seconds: int
    circuit_breaker: bool
    enable_execute_command: bool
    assign_public_ip: bool


class NetworkSpec(TypedDict):
    """The network the spec asks for (the one resolved is `Network`)."""

    vpc_id: str | None
    subnet_ids: list[str]
    load_balancer_subnet_ids: list[str]


class PollingSpec(TypedDict):
    interval_seconds: int
    deadline_seconds: int


class NormalisedSpec(TypedDict):
    """spec.normalise's result: what every step after the first reads as `spec`."""

    name: str
    mode: Literal["dedicated", "shared"]
    container: ContainerSpec
    sidecars: list[SidecarSpec]
    pre_traffic_task: PreTrafficTaskSpec | None
    load_balancers: list[LoadBalancerSpec]
    cluster: ClusterSpec
    service: ServiceSpec
    network: NetworkSpec
    tags: dict[str, str]
    on_failure: Literal["rollback", "retain"]
    time_to_live_minutes: int | None
    polling: PollingSpec


# -- what the steps make and record ----------------------------------------------------------


class Network(TypedDict):
    """network.resolve: the VPC and the subnets of the tasks and of the load balancers."""

    vpc_id: str
    subnet_ids: list[str]
    load_balancer_subnet_ids: list[str]


class LoadBalancerRecord(TypedDict):
    """An environment's load balancer as the steps pass it on (load_balancers.ensure)."""

    id: str  # the spec's load balancer id
    arn: str
    name: str
    dns_name: str
    type: Literal["application", "network"]
    gateway: NotRequired[dict[str, Any]]  # shared mode: the environment's slot on a gateway


class GatewayLoadBalancer(TypedDict):
    """A gateway's load balancer (load_balancers.ensure_gateway): the DNS alias's target too."""

    arn: str
    name: str
    dns_name: str
    canonical_hosted_zone_id: str
    scheme: Literal["internet-facing", "internal"]


class ListenersRecord(TypedDict):
    """A load balancer's listeners, created (load_balancers.ensure_listeners), and its URL."""

    id: str
    listener_arns: list[str]
    url: str


class Inventory(TypedDict):
    """What an environment has in AWS now (inventory.find): what the teardown deletes."""

    name: str
    cluster: str | None
    service: str | None
    load_balancers: list[str]
    target_groups: list[str]
    task_definitions: list[str]
    security_groups: list[str]
    log_group: str | None
    schedule: str | None
    execution_role: str | None
    count: int


class RevisionRecord(TypedDict):
    """One update of an environment, as the registry keeps it (update.record_update)."""

    task_definition: str
    image: str
    at: str
    execution: str  # the update execution's ARN


class RegistryItem(TypedDict, total=False):
    """An environment's item in the registry (registry.py): its status and the execution that
    holds it, when each request came, and what its last execution recorded. Every key is one a
    write may not have made yet (a name never seen reads as {})."""

    name: str
    status: Literal["CREATING", "READY", "UPDATING", "FAILED", "DELETING", "DELETED"]
    spec: NormalisedSpec
    resources: dict[str, Any]
    url: str | None
    expires_at: str | None
    failure: dict[str, Any]
    retained: bool
    summary: dict[str, Any]
    revisions: list[RevisionRecord]
    update_failure: dict[str, Any]
    #: The ARN of the execution holding the item in each held status (registry.holder).
    provision_execution: str
    update_execution: str
    teardown_execution: str
    create_requested_at: str
    update_requested_at: str
    teardown_requested_at: str
    created_at: str
    updated_at: str
    deleted_at: str


# -- the steps' results (what each handler returns to the state machine) ---------------------


class Created(TypedDict):
    """A resource made (or found made): the cluster, the execution role."""

    arn: str
    name: str


class LogGroupRecord(TypedDict):
    name: str


class SecurityGroupsRecord(TypedDict):
    """The environment's security groups: one per load balancer (by its id), the tasks'."""

    load_balancers: dict[str, str]
    tasks: str


class ServiceRecord(TypedDict):
    arn: str
    name: str
    cluster_arn: str


class TargetGroupRecord(TypedDict):
    id: str  # the spec's load balancer id
    arn: str
    name: str


class TaskDefinitionRecord(TypedDict):
    arn: str
    revision: int


class Deleted(TypedDict):
    """A delete step: what it deleted (nothing when it found nothing)."""

    deleted: list[str]


class ServiceDeleted(Deleted):
    stopped_tasks: list[str]  # the one-off tasks it stopped first


class TaskDefinitionsDeleted(Deleted):
    deregistered: list[str]


class Readiness(TypedDict):
    """One look at resources being made or deleted: the state machine's Choice reads `ready`;
    a deadline's failure quotes `summary`."""

    ready: bool
    summary: str


class LoadBalancersActive(Readiness):
    states: dict[str, str]  # load balancer name -> its state's code


class LoadBalancersDeleted(Readiness):
    remaining: list[str]


class ServiceStability(Readiness):
    rollout_state: str | None
    running: int
    desired: int
    healthy_targets: dict[str, int]  # target group name -> healthy targets
    stopped_tasks: int


class ServiceDeletion(TypedDict):
    ready: bool
    tasks_remaining: int
    status: NotRequired[str]  # absent when there is no cluster left to look in
    summary: NotRequired[str]


class ProvisioningRequest(TypedDict):
    """The provisioning's input, validated (validation.validate): what every later step reads."""

    spec: NormalisedSpec
    requested_at: str  # when it was asked for (ordering.py)


# -- step inputs (a Task's Arguments, tools/statemachines): the steps that take many fields ----


class StepInput(TypedDict):
    """What every Task's payload carries (the ASL builder adds it): the correlation id."""

    execution_name: str


class RolloutLook(StepInput):
    """check_rollout: one look at an update's rolling deployment."""

    cluster_arn: str
    service_name: str
    task_definition_arn: str
    target_group_arns: list[str]


class TargetGroupRef(TypedDict):
    id: str
    arn: str


class ServicePlacement(StepInput):
    """create_service: where the service runs and which target groups it registers in."""

    spec: NormalisedSpec
    network: Network
    cluster_arn: str
    task_definition_arn: str
    target_groups: list[TargetGroupRef]
    tasks_security_group_id: str


class OneOffTaskRun(StepInput):
    """run_pre_traffic_task: a command run once as a task of the environment."""

    spec: NormalisedSpec
    network: Network
    cluster_arn: str
    task_definition_arn: str
    tasks_security_group_id: str
    command: list[str]
    timeout_seconds: int


class ProvisioningFailed(StepInput):
    """record_provisioning_failure: the failure, and what the rollback did (None: retained or
    no rollback ran)."""

    spec: NormalisedSpec
    execution_id: str  # the execution's ARN ($states.context.Execution.Id)
    failure: dict[str, Any]
    resources: NotRequired[dict[str, Any] | None]
    rollback: NotRequired[dict[str, Any] | None]


class UpdateSucceeded(StepInput):
    """record_environment_updated: the verified update, to record."""

    spec: NormalisedSpec
    execution_id: str
    resources: dict[str, Any]
    task_definition: dict[str, Any]
    url: str
    at: str  # when the step was entered


class UpdateFailed(StepInput):
    """record_update_failure: the failure, and the revision to put back (None: none known)."""

    spec: NormalisedSpec
    execution_id: str
    failure: dict[str, Any]
    resources: dict[str, Any]
    previous_task_definition_arn: NotRequired[str | None]
