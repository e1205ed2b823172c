"""The environment spec: what a user writes to get an environment.

Validated once, by the first state of the provisioning machine (and by the CLI before it starts
anything). Every bad field is reported with its path, before any AWS write. The normalised form
(`normalise`) is a plain dict with every default filled in; the other steps read that dict and
never import pydantic, which keeps their cold start small.

Defaults reproduce the runbook's example: the public nginx image on port 80, 0.25 vCPU / 0.5 GB,
one task behind an internet-facing ALB on HTTP 80, in the default VPC and its default subnets.
"""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Annotated, Any, Final, Literal, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.config import JsonDict, JsonValue

from fargate_env import authentication, bounds, containers, ingress, load_balancers, naming
from fargate_env.errors import InvalidSpec, invalid_spec
from fargate_env.payloads import NormalisedSpec

SCHEMA_ID: Final = "https://github.com/fargate-env/fargate-env/schema/environment-spec.schema.json"

#: Task sizes Fargate accepts: CPU units -> allowed memory (MiB).
FARGATE_TASK_SIZES: Final[dict[int, tuple[int, ...]]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

#: The values CloudWatch Logs accepts for a log group's retention.
LOG_RETENTION_DAYS: Final = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip

DEFAULT_IMAGE: Final = "nginx:latest"
DEDICATED: Final = "dedicated"
SHARED: Final = "shared"
#: ELBv2: at most 5 condition values per listener rule (Application Load Balancer quotas); in
#: shared mode the host-header condition takes one, the source-ip condition the rest.
CONDITION_VALUES_PER_RULE: Final = 5
MAX_SHARED_INGRESS_CIDRS: Final = CONDITION_VALUES_PER_RULE - 1
#: Validation context key: the inbound rules a security group may hold in this deployment.
QUOTA_CONTEXT: Final = "security_group_rule_quota"
DEFAULT_SSL_POLICY: Final = load_balancers.DEFAULT_SSL_POLICY
#: ECS: at most 10 containers per task definition (service quotas, not adjustable).
MAX_CONTAINERS: Final = 10
#: ECS: a container's memory hard limit is at least 6 MiB (ContainerDefinition, memory).
MIN_CONTAINER_MEMORY: Final = 6
#: Fargate task ephemeral storage: 21-200 GiB (EphemeralStorage, sizeInGiB; 20 is the default).
EPHEMERAL_STORAGE_GIB: Final = (21, 200)
#: Fargate's highest nofile limit (task definition parameters, ulimits: Fargate).
MAX_NOFILE: Final = 1_048_576

_SSM_PARAMETER_ARN = re.compile(
    r"^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter/[A-Za-z0-9_.\-/]+$"
)
_SECRETS_MANAGER_ARN = re.compile(
    # A secret ARN, optionally followed by ECS's json-key:version-stage:version-id selector.
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@\-]+"
    r"(?::[^:]*:[^:]*:[^:]*)?$"
)
_CERTIFICATE_ARN = re.compile(
    r"^arn:aws[a-z-]*:(acm|iam):[a-z0-9-]*:\d{12}:(certificate|server-certificate)/.+$"
)
_IMAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/:@]{0,254}$")
#: A Secrets Manager secret itself (no JSON key selector): ELBv2 takes the whole value.
_SECRET_ARN = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@\-]+$"
)
#: An https URL: the scheme, a host, optionally a port and a path (no spaces, no fragment).
_HTTPS_URL = re.compile(r"^https://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[^\s#]*)?$")
_USER_POOL_ARN = re.compile(
    r"^arn:aws[a-z-]*:cognito-idp:[a-z0-9-]+:\d{12}:userpool/[a-z0-9-]+_[0-9A-Za-z]+$"
)
#: A Cognito domain prefix, or a custom domain (a fully qualified name).
_USER_POOL_DOMAIN = re.compile(
    r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$"
)
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
#: Docker's USER: a name or uid, optionally with a group or gid.
_USER = re.compile(r"^[A-Za-z0-9_.-]{1,255}(:[A-Za-z0-9_.-]{1,255})?$")
# AWS: letters, digits, spaces (Unicode separators, not tabs or line breaks) and _ . : / = + - @.
_TAG_CHARS = re.compile(r"^(?:[\w.:/=+\-@]|(?![\t\n\v\f\r\x1c-\x1f\x85])\s)*$", re.UNICODE)

EnvName = Annotated[
    str,
    StringConstraints(min_length=2, max_length=naming.MAX_ENVIRONMENT_NAME),
    Field(
        description=(
            "Environment name: 2-20 lowercase letters, digits and single hyphens, starting "
            "with a letter. Every resource is named from it (e.g. fenv-<name>-web)."
        ),
        examples=["demo", "pr-1234"],
        # The same rule as naming.ENVIRONMENT_NAME_PATTERN, in a form JSON Schema tools accept.
        json_schema_extra={"pattern": "^[a-z](?:-?[a-z0-9])+$"},
    ),
]
ContainerName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,255}$")]
Port = Annotated[int, Field(ge=1, le=65535)]
ENV_VAR_NAME_PATTERN: Final = r"^[A-Za-z_][A-Za-z0-9_]{0,254}$"
EnvVarName = Annotated[str, StringConstraints(pattern=ENV_VAR_NAME_PATTERN)]


def _require_unique(values: list[Any], message: str) -> None:
    if len(values) != len(set(values)):
        raise ValueError(message)


class Model(BaseModel):
    """Unknown fields are errors (a typo must not silently fall back to a default), and types are
    exact (no "80" for 80, no true for 1): the spec means what the JSON Schema says."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ContainerHealthCheck(Model):
    """A Docker-style health check run inside the container (ECS `healthCheck`)."""

    command: list[str] = Field(
        min_length=2,
        description='["CMD-SHELL", "<shell command>"] or ["CMD", "<exe>", "<arg>"...].',
        examples=[["CMD-SHELL", "curl -f http://localhost/ || exit 1"]],
    )
    interval_seconds: int = Field(30, ge=5, le=300)
    timeout_seconds: int = Field(5, ge=2, le=60)
    retries: int = Field(3, ge=1, le=10)
    start_period_seconds: int = Field(0, ge=0, le=300)

    @field_validator("command")
    @classmethod
    def _starts_with_cmd(cls, value: list[str]) -> list[str]:
        if value[0] not in ("CMD", "CMD-SHELL"):
            raise ValueError('must start with "CMD" or "CMD-SHELL"')
        return value


class EfsVolumeConfig(Model):
    file_system_id: str = Field(pattern=r"^fs-[0-9a-f]{8,40}$")
    root_directory: str = Field("/", pattern=r"^/.*$", max_length=255)
    transit_encryption: bool = True
    access_point_id: str | None = Field(None, pattern=r"^fsap-[0-9a-f]{8,40}$")

    @model_validator(mode="after")
    def _access_point_rules(self) -> EfsVolumeConfig:
        if self.access_point_id and not self.transit_encryption:
            raise ValueError("access_point_id requires transit_encryption")
        if self.access_point_id and self.root_directory != "/":
            raise ValueError("root_directory must be '/' when access_point_id is set")
        return self


class Volume(Model):
    """A volume mounted into the container: Fargate ephemeral storage (a bind mount), or EFS."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,255}$")
    container_path: str = Field(pattern=r"^/.*$", max_length=4096)
    read_only: bool = False
    efs: EfsVolumeConfig | None = Field(None, description="Omit for an ephemeral bind mount.")


DEFAULT_CPU: Final = 256
DEFAULT_MEMORY: Final = 512
#: A map of environment variable names: other names are errors (the model's rule).
NAMED_BY_VARIABLE: Final[JsonDict] = {"additionalProperties": False}
#: A map of secret references: each an SSM parameter's or a Secrets Manager secret's ARN.
SECRET_REFERENCES_SCHEMA: Final[JsonDict] = {
    **NAMED_BY_VARIABLE,
    "patternProperties": {
        ENV_VAR_NAME_PATTERN: {
            "type": "string",
            "anyOf": [
                {"pattern": _SSM_PARAMETER_ARN.pattern},
                {"pattern": _SECRETS_MANAGER_ARN.pattern},
            ],
        }
    },
}


def _memory_per_cpu() -> list[JsonValue]:
    """JSON Schema for the memory Fargate allows with each CPU value (when the memory is left
    out, its default must be one of them)."""
    rules: list[JsonValue] = []
    for cpu, memories in FARGATE_TASK_SIZES.items():
        chosen: dict[str, Any] = {"required": ["cpu"], "properties": {"cpu": {"const": cpu}}}
        if cpu == DEFAULT_CPU:
            chosen = {"anyOf": [chosen, {"not": {"required": ["cpu"]}}]}
        allowed: dict[str, Any] = {"properties": {"memory": {"enum": list(memories)}}}
        if DEFAULT_MEMORY not in memories:
            allowed["required"] = ["memory"]
        rules.append({"if": chosen, "then": allowed})
    return rules


class Ulimit(Model):
    """A resource limit of the container. Fargate applies only `nofile` (the others keep the
    operating system's defaults), so only it is offered."""

    name: Literal["nofile"] = Field(description="nofile: open files.")
    soft_limit: int = Field(ge=0, le=MAX_NOFILE)
    hard_limit: int = Field(ge=0, le=MAX_NOFILE)

    @model_validator(mode="after")
    def _soft_within_hard(self) -> Ulimit:
        if self.soft_limit > self.hard_limit:
            raise ValueError("soft_limit must not exceed hard_limit")
        return self


class ContainerDependency(Model):
    """Start this container only once another one of the task reached a condition (ECS
    `dependsOn`): START (it started), HEALTHY (its health check passed), COMPLETE (it exited),
    SUCCESS (it exited with 0)."""

    container: ContainerName = Field(description="The name of another container of the task.")
    condition: Literal["START", "HEALTHY", "COMPLETE", "SUCCESS"] = "START"


def _image_reference(value: str) -> str:
    if not _IMAGE.fullmatch(value):
        raise ValueError("is not a valid image reference")
    return value


def _secret_reference(value: dict[str, str]) -> dict[str, str]:
    bad = [
        name
        for name, ref in value.items()
        if not (_SSM_PARAMETER_ARN.fullmatch(ref) or _SECRETS_MANAGER_ARN.fullmatch(ref))
    ]
    if bad:
        raise ValueError(
            f"{', '.join(sorted(bad))}: a secret must be the ARN of an SSM parameter or of a "
            "Secrets Manager secret, never the secret's value"
        )
    return value


def _secrets_manager_arn(value: str | None) -> str | None:
    if value is not None and not _SECRETS_MANAGER_ARN.fullmatch(value):
        raise ValueError("must be the ARN of a Secrets Manager secret")
    return value


def _user(value: str | None) -> str | None:
    if value is not None and not _USER.fullmatch(value):
        raise ValueError("must be a user name or uid, optionally with :group or :gid")
    return value


Image = Annotated[str, AfterValidator(_image_reference)]
#: A command line in exec form: the program, then its arguments (no shell unless you name one).
CommandLine = Annotated[list[str], Field(min_length=1, max_length=100)]
EnvironmentVariables = dict[EnvVarName, Annotated[str, StringConstraints(max_length=32768)]]
SecretReferences = Annotated[dict[EnvVarName, str], AfterValidator(_secret_reference)]
RegistryCredentials = Annotated[str | None, AfterValidator(_secrets_manager_arn)]
User = Annotated[str | None, AfterValidator(_user)]
WorkingDirectory = Annotated[str | None, Field(pattern=r"^/.*$", max_length=4096)]
Dependencies = Annotated[list[ContainerDependency], Field(max_length=MAX_CONTAINERS - 1)]
_COMMAND = "Overrides the image's CMD (exec form: the program, then its arguments)."
_ENTRY_POINT = "Overrides the image's ENTRYPOINT."
_REGISTRY = (
    'ARN of a Secrets Manager secret {"username", "password"} to pull the image from a '
    "private registry (not needed for ECR)."
)


def _no_clash(environment: dict[str, str], secrets: dict[str, str]) -> None:
    clash = sorted(set(environment) & set(secrets))
    if clash:
        raise ValueError(f"secrets: {', '.join(clash)} defined both in environment and in secrets")


class Container(Model):
    """The task's main container: the one the load balancers send traffic to."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, json_schema_extra={"allOf": _memory_per_cpu()}
    )

    image: Image = Field(
        DEFAULT_IMAGE,
        description="Container image (Docker Hub name or a full registry path).",
        examples=[DEFAULT_IMAGE, "public.ecr.aws/nginx/nginx:stable"],
        json_schema_extra={"pattern": _IMAGE.pattern},
    )
    name: ContainerName = "app"
    port: Port = Field(80, description="The port the container listens on.")
    cpu: int = Field(
        DEFAULT_CPU,
        description="CPU units (1024 = 1 vCPU): 256, 512, 1024, ... 16384.",
        json_schema_extra={"enum": list(FARGATE_TASK_SIZES)},
    )
    memory: int = Field(
        DEFAULT_MEMORY,
        description="Memory in MiB; must be a size Fargate allows for cpu.",
        # The default too: 512 MiB goes only with 256 CPU units (Fargate refuses the task).
        validate_default=True,
    )
    cpu_architecture: Literal["X86_64", "ARM64"] = "X86_64"
    command: CommandLine | None = Field(None, description=_COMMAND)
    entry_point: CommandLine | None = Field(None, description=_ENTRY_POINT)
    working_directory: WorkingDirectory = None
    user: User = None
    environment: EnvironmentVariables = Field(
        default_factory=dict,
        description="Plain environment variables (never secrets).",
        json_schema_extra=NAMED_BY_VARIABLE,
    )
    secrets: SecretReferences = Field(
        default_factory=dict,
        description=(
            "Environment variable name -> ARN of an SSM parameter or a Secrets Manager secret. "
            "Injected by ECS at start; the value never passes through the state machine."
        ),
        json_schema_extra=SECRET_REFERENCES_SCHEMA,
    )
    health_check: ContainerHealthCheck | None = None
    depends_on: Dependencies = Field(default_factory=list)
    volumes: list[Volume] = Field(default_factory=list, max_length=20)
    read_only_root_filesystem: bool = False
    init_process: bool = Field(
        False, description="Run an init process (reaps zombies, forwards signals)."
    )
    ulimits: list[Ulimit] = Field(default_factory=list, max_length=1)
    ephemeral_storage_gib: int | None = Field(
        None,
        ge=EPHEMERAL_STORAGE_GIB[0],
        le=EPHEMERAL_STORAGE_GIB[1],
        description="The task's ephemeral storage (GiB); null: Fargate's 20 GiB.",
    )
    task_role_arn: str | None = Field(
        None,
        description="The IAM role the application's code runs with (the task role); it must "
        "be one the deployment allows. null: no AWS permissions (beyond ECS Exec's).",
    )
    registry_credentials_arn: RegistryCredentials = Field(None, description=_REGISTRY)
    log_retention_days: int = Field(
        7,
        description="CloudWatch Logs retention of the task logs.",
        json_schema_extra={"enum": list(LOG_RETENTION_DAYS)},
    )
    stop_timeout_seconds: int = Field(
        10,
        ge=2,
        le=120,
        description="Seconds between SIGTERM and SIGKILL when a task stops (AWS default 30).",
    )

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"must be one of {', '.join(map(str, LOG_RETENTION_DAYS))}")
        return value

    @field_validator("cpu")
    @classmethod
    def _fargate_cpu(cls, value: int) -> int:
        if value not in FARGATE_TASK_SIZES:
            raise ValueError(
                f"{value} is not a Fargate task size (one of "
                f"{', '.join(map(str, FARGATE_TASK_SIZES))})"
            )
        return value

    @field_validator("memory")
    @classmethod
    def _fargate_memory(cls, value: int, info: ValidationInfo) -> int:
        cpu = info.data.get("cpu")
        allowed = FARGATE_TASK_SIZES.get(cpu) if isinstance(cpu, int) else None
        if allowed is not None and value not in allowed:
            if len(allowed) <= 4:
                choices = ", ".join(map(str, allowed))
            else:
                choices = f"{allowed[0]}-{allowed[-1]} in steps of {allowed[1] - allowed[0]}"
            raise ValueError(f"{value} MiB is not allowed with cpu {cpu} (allowed: {choices} MiB)")
        return value

    @field_validator("task_role_arn")
    @classmethod
    def _role_arn(cls, value: str | None) -> str | None:
        if value is not None and not _ROLE_ARN.fullmatch(value):
            raise ValueError("must be the ARN of an IAM role (arn:aws:iam::<account>:role/...)")
        return value

    @field_validator("volumes")
    @classmethod
    def _unique_volumes(cls, value: list[Volume]) -> list[Volume]:
        _require_unique([volume.name for volume in value], "volume names must be unique")
        _require_unique(
            [volume.container_path for volume in value], "container paths must be unique"
        )
        return value

    @model_validator(mode="after")
    def _secrets_not_in_environment(self) -> Container:
        _no_clash(self.environment, self.secrets)
        return self


class Sidecar(Model):
    """Another container of the task: a proxy, an agent, a job that prepares the main one.
    The load balancers still send traffic to the main container only."""

    name: ContainerName = Field(description="Unique among the task's containers.")
    image: Image = Field(description="Container image (Docker Hub name or a full registry path).")
    essential: bool = Field(True, description="The task stops when an essential container stops.")
    cpu: int = Field(0, ge=0, le=16384, description="CPU units reserved for it (0: none).")
    memory: int | None = Field(
        None,
        ge=MIN_CONTAINER_MEMORY,
        le=122880,
        description="Hard memory limit in MiB (null: none, it shares the task's memory).",
    )
    command: CommandLine | None = Field(None, description=_COMMAND)
    entry_point: CommandLine | None = Field(None, description=_ENTRY_POINT)
    working_directory: WorkingDirectory = None
    user: User = None
    environment: EnvironmentVariables = Field(default_factory=dict)
    secrets: SecretReferences = Field(default_factory=dict)
    health_check: ContainerHealthCheck | None = None
    depends_on: Dependencies = Field(default_factory=list)
    read_only_root_filesystem: bool = False
    registry_credentials_arn: RegistryCredentials = Field(None, description=_REGISTRY)

    @model_validator(mode="after")
    def _secrets_not_in_environment(self) -> Sidecar:
        _no_clash(self.environment, self.secrets)
        return self


class PreTrafficTask(Model):
    """A one-off command run once, as a task of the environment's own task definition (same
    image, network, secrets and role; the main container's command replaced), after the task
    definition exists and before the service is created: a migration, a seed. Exit code 0 lets
    the provisioning go on; anything else fails it with the tail of the task's logs."""

    command: CommandLine = Field(
        description="The main container's command for this task (exec form).",
        examples=[["./manage.py", "migrate", "--noinput"]],
    )
    timeout_seconds: int = Field(
        bounds.PRE_TRAFFIC_TIMEOUT_SECONDS,
        ge=bounds.PRE_TRAFFIC_TIMEOUT_RANGE[0],
        le=bounds.PRE_TRAFFIC_TIMEOUT_RANGE[1],
        description="How long it may run; then it is stopped and the provisioning fails.",
    )
    run_on_update: bool = Field(
        False, description="Run it again when the environment is updated in place."
    )


class TargetHealthCheck(Model):
    """The load balancer's health check of each task (target group health check)."""

    path: str = Field("/", pattern=r"^/.*$", max_length=1024)
    port: str = Field(
        "traffic-port",
        description='"traffic-port" (the container port) or a port number as a string.',
        pattern=r"^(traffic-port|[1-9][0-9]{0,4})$",
    )
    protocol: Literal["HTTP", "HTTPS", "TCP"] = "HTTP"
    interval_seconds: int = Field(10, ge=5, le=300)
    timeout_seconds: int = Field(5, ge=2, le=120)
    healthy_threshold: int = Field(2, ge=2, le=10)
    unhealthy_threshold: int = Field(2, ge=2, le=10)
    matcher: str = Field(
        "200-399",
        description='HTTP codes counted healthy: "200", "200,302" or "200-399".',
        pattern=r"^[1-5][0-9]{2}(-[1-5][0-9]{2}|(,[1-5][0-9]{2})*)$",
    )

    @model_validator(mode="after")
    def _timeout_below_interval(self) -> TargetHealthCheck:
        if self.timeout_seconds >= self.interval_seconds:
            raise ValueError("timeout_seconds must be smaller than interval_seconds")
        if self.port != "traffic-port" and int(self.port) > 65535:
            raise ValueError("port must be traffic-port or 1-65535")
        return self


class Stickiness(Model):
    type: Literal["lb_cookie", "source_ip"] = Field(
        description="lb_cookie (ALB: the same cookie reaches the same task) or source_ip (NLB)."
    )
    duration_seconds: int = Field(86400, ge=1, le=604800, description="lb_cookie only.")


class TargetGroup(Model):
    protocol: Literal["HTTP", "HTTPS", "TCP", "TLS"] | None = Field(
        None, description="Default: HTTP behind an ALB, TCP behind an NLB."
    )
    deregistration_delay_seconds: int = Field(
        5,
        ge=0,
        le=3600,
        description="Draining time of a stopping task (AWS default 300 s; short-lived "
        "environments want seconds).",
    )
    health_check: TargetHealthCheck = Field(default_factory=TargetHealthCheck)
    stickiness: Stickiness | None = None


class Listener(Model):
    port: Port
    protocol: Literal["HTTP", "HTTPS", "TCP", "TLS"]
    certificate_arn: str | None = Field(None, description="ACM certificate; HTTPS/TLS only.")
    ssl_policy: str | None = Field(
        None, description=f"HTTPS/TLS only; default {DEFAULT_SSL_POLICY}."
    )
    redirect_to_https: bool = Field(
        False, description="ALB HTTP listener only: answer with a redirect to the HTTPS listener."
    )

    @model_validator(mode="after")
    def _tls_fields(self) -> Listener:
        secure = self.protocol in ("HTTPS", "TLS")
        if secure and not self.certificate_arn:
            raise ValueError(f"certificate_arn is required for an {self.protocol} listener")
        if not secure and self.certificate_arn:
            raise ValueError(
                f"certificate_arn is not allowed on {_article(self.protocol)} listener"
            )
        if not secure and self.ssl_policy:
            raise ValueError(f"ssl_policy is not allowed on {_article(self.protocol)} listener")
        if self.certificate_arn and not _CERTIFICATE_ARN.fullmatch(self.certificate_arn):
            raise ValueError("certificate_arn is not an ACM or IAM certificate ARN")
        if self.redirect_to_https and self.protocol != "HTTP":
            raise ValueError("redirect_to_https is only for an HTTP listener")
        return self


def _article(word: str) -> str:
    """ "an HTTP listener", "a network load balancer": the article as the word is spoken."""
    spoken_vowel = word[:1].lower() in "aeio" or word.upper() in ("HTTP", "HTTPS")
    return f"{'an' if spoken_vowel else 'a'} {word}"


def _listener_protocols(lb_type: str) -> tuple[str, ...]:
    return ("HTTP", "HTTPS") if lb_type == "application" else ("TCP", "TLS")


def _https_url(value: str) -> str:
    if not _HTTPS_URL.fullmatch(value):
        raise ValueError("must be a full https:// URL (ELBv2 accepts only HTTPS endpoints)")
    return value


def _client_secret_arn(value: str) -> str:
    if not _SECRET_ARN.fullmatch(value):
        raise ValueError(
            "must be the ARN of a Secrets Manager secret holding the client secret (its whole "
            "value; never the secret itself)"
        )
    return value


HttpsUrl = Annotated[
    str,
    StringConstraints(max_length=2048),
    AfterValidator(_https_url),
    Field(json_schema_extra={"pattern": _HTTPS_URL.pattern}),
]
_ON_UNAUTHENTICATED = (
    "What an anonymous request gets: authenticate (a 302 to the identity provider's sign-in), "
    "deny (401), allow (it reaches the service; for pages that read the identity if any)."
)


#: The members each kind of authentication needs (ELBv2's AuthenticateOidcActionConfig and
#: AuthenticateCognitoActionConfig; the OIDC client secret as the ARN of its secret).
AUTHENTICATION_FIELDS: Final = {
    authentication.OIDC: (
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "user_info_endpoint",
        "client_id",
        "client_secret_arn",
    ),
    authentication.COGNITO: ("user_pool_arn", "user_pool_client_id", "user_pool_domain"),
}


def _fields_per_type() -> list[JsonValue]:
    """JSON Schema: each type's members required, the other type's absent."""
    rules: list[JsonValue] = []
    for kind, needed in AUTHENTICATION_FIELDS.items():
        others = [
            field
            for other, fields in AUTHENTICATION_FIELDS.items()
            if other != kind
            for field in fields
        ]
        rules.append(
            {
                "if": {"properties": {"type": {"const": kind}}},
                "then": {
                    "required": list(needed),
                    "not": {"anyOf": [{"required": [field]} for field in others]},
                },
            }
        )
    return rules


class Authentication(Model):
    """Sign-in in front of the service: the load balancer authenticates each request with an
    OpenID Connect identity provider (type oidc: ALB's authenticate-oidc) or an Amazon Cognito
    user pool (type cognito: authenticate-cognito) before it forwards it."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, json_schema_extra={"allOf": _fields_per_type()}
    )

    type: Literal["oidc", "cognito"] = Field(
        description="oidc: issuer, the three endpoints, client_id and client_secret_arn. "
        "cognito: user_pool_arn, user_pool_client_id, user_pool_domain."
    )
    issuer: HttpsUrl | None = Field(None, description="oidc: the identity provider's issuer.")
    authorization_endpoint: HttpsUrl | None = Field(
        None, description="oidc: where an anonymous request is sent to sign in."
    )
    token_endpoint: HttpsUrl | None = Field(None, description="oidc.")
    user_info_endpoint: HttpsUrl | None = Field(None, description="oidc.")
    client_id: str | None = Field(None, min_length=1, max_length=512, pattern=r"^\S+$")
    client_secret_arn: Annotated[str, AfterValidator(_client_secret_arn)] | None = Field(
        None,
        description="oidc: ARN of the Secrets Manager secret whose value is the client secret, "
        "under the deployment's secret prefix (the environment's folder or the shared one). "
        "Read by the step that creates the listener; never in the spec or the execution history.",
        json_schema_extra={"pattern": _SECRET_ARN.pattern},
    )
    user_pool_arn: str | None = Field(None, pattern=_USER_POOL_ARN.pattern)
    user_pool_client_id: str | None = Field(None, pattern=r"^[\w+]{1,128}$")
    user_pool_domain: str | None = Field(
        None,
        max_length=253,
        pattern=_USER_POOL_DOMAIN.pattern,
        description="cognito: the user pool's domain prefix (hosted at <prefix>.auth.<region>."
        "amazoncognito.com) or its custom domain.",
    )
    scope: str = Field(
        authentication.DEFAULT_SCOPE,
        min_length=1,
        max_length=512,
        description="The claims asked of the identity provider (space-separated).",
    )
    session_cookie_name: str = Field(
        authentication.DEFAULT_SESSION_COOKIE, pattern=r"^[A-Za-z0-9_-]{1,64}$"
    )
    session_timeout_seconds: int = Field(
        authentication.MAX_SESSION_TIMEOUT_SECONDS,
        ge=1,
        le=authentication.MAX_SESSION_TIMEOUT_SECONDS,
        description="How long a sign-in lasts (ELBv2: at most 7 days, the default).",
    )
    on_unauthenticated_request: Literal["authenticate", "deny", "allow"] = Field(
        "authenticate", description=_ON_UNAUTHENTICATED
    )


class LoadBalancer(Model):
    id: str = Field(
        "web",
        min_length=1,
        max_length=naming.MAX_LOAD_BALANCER_ID,
        pattern=r"^[a-z][a-z0-9]*$",
        description="Short id (1-6 lowercase letters/digits), part of the resource names.",
    )
    type: Literal["application", "network"] = "application"
    scheme: Literal["internet-facing", "internal"] = "internet-facing"
    listeners: list[Listener] | None = Field(
        None,
        min_length=1,
        max_length=10,
        description="Default: HTTP 80 for an ALB, TCP 80 for an NLB.",
    )
    ingress_cidrs: list[str] = Field(
        default_factory=lambda: ["0.0.0.0/0"],
        min_length=1,
        max_length=50,
        description="Who may reach the listeners (IPv4 or IPv6 CIDRs).",
    )
    target_group: TargetGroup = Field(default_factory=TargetGroup)
    authentication: Authentication | None = Field(
        None, description="Sign-in in front of the service (ALB only, on HTTPS listeners)."
    )

    @field_validator("ingress_cidrs")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        bad = []
        for cidr in value:
            try:
                ipaddress.ip_network(cidr, strict=True)
            except ValueError:
                bad.append(cidr)
            else:
                if "/" not in cidr:
                    bad.append(cidr)
        if bad:
            raise ValueError(f"not CIDR blocks: {', '.join(bad)}")
        return value

    @field_validator("listeners")
    @classmethod
    def _listeners_match_type(
        cls, value: list[Listener] | None, info: ValidationInfo
    ) -> list[Listener] | None:
        if not value:
            return value
        lb_type = info.data.get("type", "application")
        allowed = _listener_protocols(lb_type)
        wrong = sorted({listener.protocol for listener in value} - set(allowed))
        if wrong:
            raise ValueError(
                f"{_article(lb_type)} load balancer takes {' or '.join(allowed)} listeners, "
                f"not {', '.join(wrong)}"
            )
        _require_unique([listener.port for listener in value], "ports must be unique")
        if any(listener.redirect_to_https for listener in value) and not any(
            listener.protocol == "HTTPS" for listener in value
        ):
            raise ValueError("redirect_to_https needs an HTTPS listener to redirect to")
        if all(listener.redirect_to_https for listener in value):
            raise ValueError("at least one listener must forward to the service")
        return value

    @field_validator("target_group")
    @classmethod
    def _target_group_matches_type(cls, value: TargetGroup, info: ValidationInfo) -> TargetGroup:
        lb_type = info.data.get("type", "application")
        allowed = _listener_protocols(lb_type)
        if value.protocol is not None and value.protocol not in allowed:
            raise ValueError(
                f"protocol: {value.protocol} is not valid behind {_article(lb_type)} load balancer"
            )
        if value.stickiness is not None:
            wanted = "lb_cookie" if lb_type == "application" else "source_ip"
            if value.stickiness.type != wanted:
                raise ValueError(
                    f"stickiness.type: {value.stickiness.type} is not available on "
                    f"{_article(lb_type)} load balancer (use {wanted})"
                )
        if lb_type == "application" and value.health_check.protocol == "TCP":
            # ELBv2: TCP health checks are not supported for HTTP/HTTPS target groups.
            raise ValueError(
                "health_check.protocol: TCP is not available behind an application "
                "load balancer (use HTTP or HTTPS)"
            )
        if (
            lb_type == "network"
            and value.health_check.protocol == "HTTPS"
            and value.protocol != "TLS"
        ):
            raise ValueError("health_check.protocol: HTTPS needs a TLS target group")
        # ELBv2 accepts 200-499 behind an ALB and 200-599 behind an NLB.
        highest = 499 if lb_type == "application" else 599
        codes = [int(code) for code in re.split(r"[,-]", value.health_check.matcher)]
        if any(not 200 <= code <= highest for code in codes):
            raise ValueError(
                f"health_check.matcher: codes must be 200-{highest} behind "
                f"{_article(lb_type)} load balancer"
            )
        return value

    @model_validator(mode="after")
    def _rules_within_quota(self, info: ValidationInfo) -> LoadBalancer:
        """Each (listener port, CIDR) is one inbound rule of this load balancer's security group:
        EC2 refuses the rule beyond the quota (RulesPerSecurityGroupLimitExceeded), so say it
        now rather than half-way through creating the group."""
        quota = (info.context or {}).get(QUOTA_CONTEXT, ingress.DEFAULT_RULES_PER_GROUP)
        ports = [listener.port for listener in self.effective_listeners()]
        from_probe = not ingress.reachable_from_outside(self.scheme, self.ingress_cidrs)
        counts = ingress.load_balancer_rules(ports, self.ingress_cidrs, from_probe)
        for version, count in counts.items():
            if count > quota:
                probe = len(ports) if from_probe else 0
                cidrs = (count - probe) // len(ports)
                raise ValueError(
                    f"ingress_cidrs: {len(ports)} listener port(s) x {cidrs} {version} CIDR(s)"
                    + (f" + {probe} for the in-VPC endpoint check" if probe else "")
                    + f" make {count} inbound {version} rules on the load balancer's security "
                    f"group; the quota is {quota} per group (EC2 inbound rules per security "
                    "group; this deployment's SecurityGroupRuleQuota): list fewer CIDRs or "
                    "listeners, or raise the quota"
                )
        return self

    def effective_listeners(self) -> list[Listener]:
        if self.listeners:
            return list(self.listeners)
        return [Listener(port=80, protocol="HTTP" if self.type == "application" else "TCP")]


class CapacityProvider(Model):
    provider: Literal["FARGATE", "FARGATE_SPOT"]
    weight: int = Field(1, ge=0, le=1000)
    base: int = Field(0, ge=0, le=100000)


class Cluster(Model):
    container_insights: bool = Field(True, description="CloudWatch Container Insights.")
    capacity_providers: list[CapacityProvider] = Field(
        default_factory=lambda: [CapacityProvider(provider="FARGATE")],
        min_length=1,
        max_length=2,
    )

    @model_validator(mode="after")
    def _strategy(self) -> Cluster:
        _require_unique(
            [item.provider for item in self.capacity_providers],
            "capacity_providers: each provider may appear once",
        )
        if not any(item.weight > 0 for item in self.capacity_providers):
            raise ValueError("capacity_providers: at least one weight must be above 0")
        if sum(1 for item in self.capacity_providers if item.base > 0) > 1:
            raise ValueError("capacity_providers: only one provider may have a base")
        return self


class Service(Model):
    desired_count: int = Field(1, ge=1, le=100)
    health_check_grace_period_seconds: int = Field(30, ge=0, le=7200)
    circuit_breaker: bool = Field(True, description="Deployment circuit breaker with rollback.")
    enable_execute_command: bool = Field(False, description="ECS Exec into running tasks.")
    assign_public_ip: bool = Field(
        True, description="Needed in public subnets without a NAT gateway to pull the image."
    )


class Network(Model):
    vpc_id: str | None = Field(
        None, pattern=r"^vpc-[0-9a-f]{8,17}$", description="Default: the default VPC."
    )
    subnet_ids: list[Annotated[str, StringConstraints(pattern=r"^subnet-[0-9a-f]{8,17}$")]] = Field(
        default_factory=list,
        max_length=16,
        description="Subnets of the tasks (and the load balancers). Default: the VPC's "
        "default subnets.",
    )
    load_balancer_subnet_ids: list[
        Annotated[str, StringConstraints(pattern=r"^subnet-[0-9a-f]{8,17}$")]
    ] = Field(
        default_factory=list,
        max_length=16,
        description="Subnets of the load balancers, when they differ from the tasks' "
        "(public load balancers in front of tasks in private subnets).",
    )

    @model_validator(mode="after")
    def _unique(self) -> Network:
        for field in ("subnet_ids", "load_balancer_subnet_ids"):
            _require_unique(getattr(self, field), f"{field}: duplicate subnet ids")
        if self.load_balancer_subnet_ids and not self.subnet_ids:
            raise ValueError("load_balancer_subnet_ids needs subnet_ids for the tasks")
        return self


class Polling(Model):
    interval_seconds: int = Field(
        bounds.POLL_INTERVAL_SECONDS,
        ge=bounds.POLL_INTERVAL_RANGE[0],
        le=bounds.POLL_INTERVAL_RANGE[1],
        description="Seconds between status checks (in shared mode, when not given: "
        f"{bounds.SHARED_POLL_INTERVAL_SECONDS}, or more for a deadline past "
        f"{bounds.SHARED_POLL_INTERVAL_SECONDS * bounds.MAX_PROVISION_POLLS} seconds).",
    )
    deadline_seconds: int = Field(
        bounds.POLL_DEADLINE_SECONDS,
        ge=bounds.POLL_DEADLINE_RANGE[0],
        le=bounds.POLL_DEADLINE_RANGE[1],
        description="How long the load balancers and the service may take to become ready.",
    )

    @model_validator(mode="after")
    def _deadline_after_interval(self) -> Polling:
        if self.deadline_seconds < self.interval_seconds:
            raise ValueError("deadline_seconds must be at least interval_seconds")
        polls = bounds.provision_polls(self.interval_seconds, self.deadline_seconds)
        if polls > bounds.MAX_PROVISION_POLLS:
            # Each look adds ~21 events to the execution's history, which Step Functions ends
            # at 25,000 events, killing the execution without its rollback.
            shortest = math.ceil(self.deadline_seconds / bounds.MAX_PROVISION_POLLS)
            raise ValueError(
                f"interval_seconds: must be at least {shortest} for a deadline of "
                f"{self.deadline_seconds} seconds ({polls} looks; at most "
                f"{bounds.MAX_PROVISION_POLLS} fit in an execution's history)"
            )
        return self


#: What the schema does not say: rules across fields it cannot express, and rules that depend
#: on the deployment. The model (and so the first state and `fenv validate`) checks them all.
SCHEMA_COMMENT: Final = (
    "Rules this schema does not express (the spec model checks them, naming the field): "
    "unique load balancer ids, listener ports, volume names and container paths; listener "
    "and target group protocols, stickiness type and health check matcher codes by load "
    "balancer type; certificate_arn and ssl_policy only on HTTPS/TLS listeners; "
    "redirect_to_https only beside an HTTPS listener and never on every listener; "
    "authentication only on an application load balancer with an HTTPS listener and no HTTP "
    "listener that forwards (in shared mode: only on a deployment whose gateways have a domain); "
    "a health "
    "check timeout below its interval; 'fenv-<name>-<id>' at most 32 characters; names "
    "used in both environment and secrets; one capacity provider with a base and a weight "
    "above 0; load_balancer_subnet_ids only with subnet_ids; deadline_seconds at least "
    "interval_seconds and at most 720 looks; tag characters; the deployment's own rules "
    "(inbound rules per security group, the secrets it may read); and sizes: the spec at "
    "most 64 KiB as JSON, the task definition it makes within ECS's 64 KiB."
)


class EnvironmentSpec(Model):
    """An environment: one container image answering on one or more load balancers."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        json_schema_extra={
            "$id": SCHEMA_ID,
            "title": "fargate-env environment spec",
            "$comment": SCHEMA_COMMENT,
        },
    )

    name: EnvName
    mode: Literal["dedicated", "shared"] = Field(
        DEDICATED,
        description="dedicated: the environment's own load balancers. shared: its target group "
        "and routing rule on a gateway, a load balancer fargate-env shares between environments "
        "(the URL in about a minute, a fraction of the cost): its own listener port, or, when "
        "the deployment has a GatewayDomain, https://<name>.<domain> by a host-header rule.",
    )
    container: Container = Field(default_factory=Container)
    sidecars: list[Sidecar] = Field(
        default_factory=list,
        max_length=MAX_CONTAINERS - 1,
        description="More containers of the task (ECS allows 10 in all).",
    )
    pre_traffic_task: PreTrafficTask | None = Field(
        None, description="A one-off command (a migration, a seed) run before traffic."
    )
    load_balancers: list[LoadBalancer] = Field(
        default_factory=lambda: [LoadBalancer()], min_length=1, max_length=5
    )
    cluster: Cluster = Field(default_factory=Cluster)
    service: Service = Field(default_factory=Service)
    network: Network = Field(default_factory=Network)
    tags: dict[str, str] = Field(
        default_factory=dict,
        description=f"Added to every resource (at most {naming.MAX_USER_TAGS}; the "
        f"'{naming.RESERVED_TAG_PREFIX}' and 'aws:' prefixes are reserved).",
        json_schema_extra={
            "maxProperties": naming.MAX_USER_TAGS,
            "propertyNames": {
                "minLength": 1,
                "maxLength": 128,
                "not": {"pattern": f"^([aA][wW][sS]:|{naming.RESERVED_TAG_PREFIX})"},
            },
            "additionalProperties": {"type": "string", "maxLength": 256},
        },
    )
    on_failure: Literal["rollback", "retain"] = Field(
        "rollback",
        description="rollback: a failed provisioning removes what it created. retain: keep it "
        "for inspection (then resume or tear down).",
    )
    time_to_live_minutes: int | None = Field(
        None,
        ge=15,
        le=525600,
        description="Tear the environment down automatically this long after it is ready.",
    )
    polling: Polling = Field(default_factory=Polling)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not naming.ENVIRONMENT_NAME_PATTERN.fullmatch(value):
            raise ValueError(
                "must be lowercase letters, digits and single hyphens, start with a letter and "
                "end with a letter or digit"
            )
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > naming.MAX_USER_TAGS:
            raise ValueError(
                f"at most {naming.MAX_USER_TAGS} tags (AWS allows "
                f"{naming.MAX_TAGS_PER_RESOURCE} per resource and fargate-env adds up to "
                f"{naming.SYSTEM_TAG_COUNT})"
            )
        problems = []
        for key, tag_value in value.items():
            if not 1 <= len(key) <= 128:
                problems.append(f"key {key!r} must be 1-128 characters")
            elif key.lower().startswith("aws:") or key.startswith(naming.RESERVED_TAG_PREFIX):
                problems.append(f"key {key!r} uses a reserved prefix")
            elif not _TAG_CHARS.fullmatch(key):
                problems.append(f"key {key!r} has characters AWS tags do not allow")
            if len(tag_value) > 256:
                problems.append(f"value of {key!r} is longer than 256 characters")
            elif not _TAG_CHARS.fullmatch(tag_value):
                problems.append(f"value of {key!r} has characters AWS tags do not allow")
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @field_validator("load_balancers")
    @classmethod
    def _unique_load_balancer_ids(cls, value: list[LoadBalancer]) -> list[LoadBalancer]:
        # (Their names fit ELBv2's 32 characters for any name and id the model allows: the
        # bounds of both make sure of it, tests/unit/test_naming.py.)
        _require_unique([lb.id for lb in value], "ids must be unique")
        return value


def _format_location(location: tuple[str | int, ...]) -> str:
    parts: list[str] = []
    for item in location:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif parts:
            parts.append(f".{item}")
        else:
            parts.append(str(item))
    return "".join(parts) or "(spec)"


# A cross-field check names its field first ("memory: ..."); it is joined to the model's path.
_FIELD_PREFIX = re.compile(
    r"^([A-Za-z_]\w*(?:\[\d+\])*(?:\.[A-Za-z_]\w*(?:\[\d+\])*)*): (.*)$", re.S
)
_PATH_PART = re.compile(r"([A-Za-z_]\w*)|\[(\d+)\]")


def _path(text: str) -> tuple[str | int, ...]:
    """ "sidecars[0].depends_on" -> ("sidecars", 0, "depends_on")."""
    return tuple(name or int(index) for name, index in _PATH_PART.findall(text))


def describe_errors(exc: ValidationError) -> list[str]:
    """One line per problem, each starting with the path of the bad field."""
    lines = []
    for error in exc.errors(include_url=False):
        location: tuple[str | int, ...] = tuple(
            item for item in error["loc"] if not str(item).startswith("function-")
        )
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        prefixed = _FIELD_PREFIX.match(message)
        if prefixed:
            location = (*location, *_path(prefixed.group(1)))
            message = prefixed.group(2)
        lines.append(f"{_format_location(location)}: {message}")
    return lines


def parse(raw: Any, *, security_group_rule_quota: int | None = None) -> EnvironmentSpec:
    """Validate a spec; InvalidSpec names every bad field. `security_group_rule_quota`: the
    account's inbound rules per security group when raised above AWS's default."""
    if not isinstance(raw, dict):
        raise InvalidSpec("spec: must be a JSON object")
    quota = security_group_rule_quota or ingress.DEFAULT_RULES_PER_GROUP
    try:
        parsed = EnvironmentSpec.model_validate(raw, context={QUOTA_CONTEXT: quota})
    except ValidationError as exc:
        raise invalid_spec(describe_errors(exc)) from exc
    together = (
        shared_mode_problems(parsed)
        + authentication_problems(parsed)
        + containers.problems(normalise(parsed))
    )
    if together:
        raise invalid_spec(together)
    return parsed


def shared_mode_problems(spec: EnvironmentSpec) -> list[str]:
    """In shared mode the load balancer is a gateway's: its type, listeners, certificates and
    subnets come from the deployment. What stays the environment's own: its target group (health
    check, stickiness, deregistration delay), which gateways it uses (`scheme`) and who may reach
    it (`ingress_cidrs`, a source-ip condition of its routing rule)."""
    if spec.mode != SHARED:
        return []
    problems = []
    if len(spec.load_balancers) != 1:
        problems.append(
            "load_balancers: shared mode takes exactly one (the environment's route on a "
            f"gateway), not {len(spec.load_balancers)}"
        )
    for index, lb in enumerate(spec.load_balancers):
        where = f"load_balancers[{index}]"
        if lb.type != "application":
            problems.append(f"{where}.type: gateways are application load balancers")
        if "listeners" in lb.model_fields_set:
            problems.append(
                f"{where}.listeners: not in shared mode: the gateway's listeners serve every "
                "environment (the deployment's domain and certificate, or a port of its own)"
            )
        if len(lb.ingress_cidrs) > MAX_SHARED_INGRESS_CIDRS:
            problems.append(
                f"{where}.ingress_cidrs: at most {MAX_SHARED_INGRESS_CIDRS} CIDRs in shared mode "
                f"(got {len(lb.ingress_cidrs)}): they are the source-ip condition of the "
                f"environment's rule, and ELBv2 allows {CONDITION_VALUES_PER_RULE} condition "
                "values per rule, one of which is its host name"
            )
    if spec.network.load_balancer_subnet_ids:
        problems.append(
            "network.load_balancer_subnet_ids: not in shared mode: the gateways' subnets are "
            "the deployment's (GatewaySubnetIds)"
        )
    return problems


def authentication_problems(spec: EnvironmentSpec) -> list[str]:
    """ELBv2 authenticates users only on an Application Load Balancer's HTTPS listeners; and a
    listener that forwards over plain HTTP beside them would serve the environment without
    sign-in. (In shared mode the gateway's listeners decide: validation.py, per deployment.)"""
    problems = []
    for index, lb in enumerate(spec.load_balancers):
        if lb.authentication is None:
            continue
        where = f"load_balancers[{index}].{authentication.FIELD}"
        for kind, fields in AUTHENTICATION_FIELDS.items():
            for field in fields:
                given = getattr(lb.authentication, field) is not None
                if kind == lb.authentication.type and not given:
                    problems.append(f"{where}.{field}: required for type {kind}")
                elif kind != lb.authentication.type and given:
                    problems.append(f"{where}.{field}: only for type {kind}")
        if lb.type != "application":
            problems.append(
                f"{where}: a network load balancer cannot authenticate users "
                "(authenticate-oidc and authenticate-cognito are Application Load Balancer "
                "actions)"
            )
            continue
        if spec.mode == SHARED:
            continue
        listeners = lb.effective_listeners()
        if not any(listener.protocol == "HTTPS" for listener in listeners):
            problems.append(
                f"{where}: needs an HTTPS listener (ELBv2 authenticates only on HTTPS "
                "listeners): add one with its certificate_arn"
            )
            continue
        for position, listener in enumerate(listeners):
            if listener.protocol == "HTTP" and not listener.redirect_to_https:
                problems.append(
                    f"{where}: listeners[{position}] (HTTP {listener.port}) would serve the "
                    "environment without sign-in: set its redirect_to_https, or remove it"
                )
    return problems


def normalise(spec: EnvironmentSpec) -> NormalisedSpec:
    """The plain-dict form every later step reads: all defaults filled in, derived values added."""
    data = spec.model_dump(mode="json")
    for raw_lb, lb in zip(data["load_balancers"], spec.load_balancers, strict=True):
        raw_lb["listeners"] = [
            listener.model_dump(mode="json") for listener in lb.effective_listeners()
        ]
        for listener in raw_lb["listeners"]:
            if listener["protocol"] in ("HTTPS", "TLS") and not listener["ssl_policy"]:
                listener["ssl_policy"] = DEFAULT_SSL_POLICY
        tg = raw_lb["target_group"]
        if tg["protocol"] is None:
            tg["protocol"] = "HTTP" if lb.type == "application" else "TCP"
    if spec.mode == SHARED and "interval_seconds" not in spec.polling.model_fields_set:
        # On a gateway the wait is for the task alone (its load balancer is active): looked at
        # more often than a new load balancer's minutes, so the URL is seen sooner.
        data["polling"]["interval_seconds"] = bounds.shared_poll_interval(
            spec.polling.deadline_seconds
        )
    # pydantic's dump is a plain dict; its shape is NormalisedSpec's (test_payloads checks it).
    return cast(NormalisedSpec, data)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the spec (committed as schema/environment-spec.schema.json)."""
    schema = EnvironmentSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
