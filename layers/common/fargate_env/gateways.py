"""Gateways: Application Load Balancers fargate-env shares between environments in shared mode.

A gateway is an ALB with its security group and listeners, owned by fargate-env (tagged
`fargate-env:gateway`, never an environment's), recorded in the registry
(gateway_registry.py). Environments are placed on a gateway's slots. With a domain
(GatewayDomain, its wildcard certificate GatewayCertificateArn) a slot is a rule priority of the
gateway's HTTPS listener: each environment is https://<name>.<domain> by a host-header rule.
Without one, a slot is the environment's own listener port on the gateway. A gateway is made on
demand by the first environment that finds none with room, or ahead of time by the gateways
machine (GatewayWarmCount), and removed by it once empty for GatewayIdleMinutes (or kept). The
deployment's settings (template parameters Gateway*) arrive as environment variables
(Settings).

DNS, with a hosted zone (GatewayHostedZoneId): two gateways cannot share one wildcard record,
so the first internet-facing gateway (`e1`) holds `*.<domain>` and an environment on any other
gateway gets an alias record of its own name (a name more specific than a wildcard wins:
RFC 4592 section 2.2.1), written and deleted with the environment.

Full is counted before anything is created, against AWS's limits (Elastic Load Balancing,
"Quotas for your Application Load Balancers"): 100 target groups per ALB (not adjustable), 100
rules per listener (GatewayRulesPerListener when the quota is raised), 50 listeners per ALB
(one is the gateway's own), 5 condition values per rule (the spec allows at most 4 CIDRs beside
the host name), 25 certificates per ALB (a gateway uses one, the wildcard's); and the
deployment's own cap (GatewayMaxEnvironments)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from fargate_env import (
    bounds,
    clock,
    gateway_registry,
    load_balancers,
    naming,
    network,
    security_groups,
)
from fargate_env import settings as deployment_settings
from fargate_env.aws import client
from fargate_env.errors import AwsRequestFailed, InvalidSpec, ResourceNotReady, error_code
from fargate_env.payloads import (
    LoadBalancerRecord,
    LoadBalancerSpec,
    Network,
    NetworkSpec,
    NormalisedSpec,
)

# AWS's limits per Application Load Balancer (Elastic Load Balancing user guide, quotas).
TARGET_GROUPS_PER_ALB: Final = 100
DEFAULT_RULES_PER_LISTENER: Final = 100
LISTENERS_PER_ALB: Final = 50
CERTIFICATES_PER_ALB: Final = 25
#: GatewayMaxEnvironments when the deployment gives none: environments per gateway.
DEFAULT_MAX_ENVIRONMENTS: Final = 25
#: GatewayFirstPort when the deployment gives none: port routing's first listener port.
DEFAULT_FIRST_PORT: Final = 10000
#: A gateway's own listener ports: HTTP (redirecting to HTTPS with a domain) and HTTPS.
HTTP_PORT: Final = 80
HTTPS_PORT: Final = 443
#: How a gateway routes: by host name with GatewayDomain (a rule per environment), by port
#: without one (a listener per environment).
HOST: Final = "host"
PORT: Final = "port"
#: GatewayIdleMinutes: an empty gateway is kept (not removed however long it stays empty).
KEEP: Final = "keep"
#: The scheme of the gateways kept warm (the internal ones are made on demand only).
WARM_SCHEME: Final = "internet-facing"
#: The environment's name is one DNS label (validated: lowercase letters, digits, single
#: hyphens), so `<name>.<domain>` is covered by the wildcard certificate `*.<domain>`.
NOT_FOUND_BODY: Final = "No environment answers at this address.\n"


def _int(variable: str, default: int) -> int:
    raw = deployment_settings.get(variable).strip()
    return int(raw) if raw else default


def _text(variable: str) -> str | None:
    return deployment_settings.get(variable).strip() or None


def _idle_minutes() -> int | None:
    """GatewayIdleMinutes: minutes an empty gateway waits before it is removed; None: kept."""
    raw = deployment_settings.get("GATEWAY_IDLE_MINUTES").strip().lower()
    return None if raw in ("", KEEP) else int(raw)


@dataclass(frozen=True)
class Settings:
    """The deployment's gateway settings (template parameters Gateway*)."""

    domain: str | None = None
    certificate_arn: str | None = None
    hosted_zone_id: str | None = None
    max_environments: int = DEFAULT_MAX_ENVIRONMENTS
    rules_per_listener: int = DEFAULT_RULES_PER_LISTENER
    warm_count: int = 0
    idle_minutes: int | None = None
    vpc_id: str | None = None
    subnet_ids: tuple[str, ...] = ()
    first_port: int = DEFAULT_FIRST_PORT

    @classmethod
    def load(cls) -> Settings:
        subnets = deployment_settings.get("GATEWAY_SUBNET_IDS")
        return cls(
            domain=(_text("GATEWAY_DOMAIN") or "").rstrip(".").lower() or None,
            certificate_arn=_text("GATEWAY_CERTIFICATE_ARN"),
            hosted_zone_id=_text("GATEWAY_HOSTED_ZONE_ID"),
            max_environments=_int("GATEWAY_MAX_ENVIRONMENTS", DEFAULT_MAX_ENVIRONMENTS),
            rules_per_listener=_int("GATEWAY_RULES_PER_LISTENER", DEFAULT_RULES_PER_LISTENER),
            warm_count=_int("GATEWAY_WARM_COUNT", 0),
            idle_minutes=_idle_minutes(),
            vpc_id=_text("GATEWAY_VPC_ID"),
            subnet_ids=tuple(item.strip() for item in subnets.split(",") if item.strip()),
            first_port=_int("GATEWAY_FIRST_PORT", DEFAULT_FIRST_PORT),
        )

    @property
    def routing(self) -> str:
        """`host`: each environment is https://<name>.<domain> by a host-header rule. `port`:
        each is http://<gateway's DNS name>:<port>, a listener of its own."""
        return HOST if self.domain else PORT

    def limits(self) -> dict[str, int]:
        """What bounds the environments of one gateway, each environment costing one target
        group and, with a domain, one rule of the HTTPS listener, or, without, one listener."""
        found = {
            "the deployment's cap (GatewayMaxEnvironments)": self.max_environments,
            "target groups per load balancer (AWS: 100, not adjustable)": TARGET_GROUPS_PER_ALB,
        }
        if self.routing == HOST:
            found["rules per listener (GatewayRulesPerListener)"] = self.rules_per_listener
        else:
            found["listeners per load balancer (AWS: 50), less the gateway's own on port 80"] = (
                LISTENERS_PER_ALB - 1
            )
        return found

    def capacity(self) -> int:
        """Environments one gateway takes: the tightest of its limits."""
        return min(self.limits().values())

    def url(self, env: str, dns_name: str, slot: int) -> str:
        if self.routing == HOST:
            return f"https://{host_name(env, self)}/"
        return f"http://{dns_name}:{self.first_port + slot}/"


def host_name(env: str, settings: Settings) -> str:
    return f"{env}.{settings.domain}"


def _gateway_network(settings: Settings) -> Network:
    """The gateways' VPC and subnets (one per zone): the deployment's, or the default VPC's."""
    wanted = {"vpc_id": settings.vpc_id, "subnet_ids": list(settings.subnet_ids)}
    try:
        return network.resolve(
            {
                "network": {**wanted, "load_balancer_subnet_ids": []},
                "load_balancers": [{"type": "application"}],
            }
        )
    except InvalidSpec as exc:
        raise AwsRequestFailed(
            f"the gateways' network (GatewayVpcId, GatewaySubnetIds): {exc}"
        ) from exc


def in_gateway_network(spec: NormalisedSpec) -> NormalisedSpec:
    """A spec in shared mode that names no network runs in the gateways' (the deployment's
    GatewayVpcId and GatewaySubnetIds, else the default VPC)."""
    wanted = spec["network"]
    if spec.get("mode") != "shared" or wanted.get("vpc_id") or wanted.get("subnet_ids"):
        return spec
    settings = Settings.load()
    chosen: NetworkSpec = {
        **wanted,
        "vpc_id": settings.vpc_id,
        "subnet_ids": list(settings.subnet_ids),
    }
    return {**spec, "network": chosen}


def check_network(spec: NormalisedSpec, resolved: Network) -> None:
    """An environment in shared mode runs in the gateways' VPC: its target group's IP targets
    must be in the VPC of the load balancer that forwards to it."""
    if spec.get("mode") != "shared":
        return
    gateway_vpc = _gateway_network(Settings.load())["vpc_id"]
    if resolved["vpc_id"] != gateway_vpc:
        raise InvalidSpec(
            f"network.vpc_id: shared mode runs in the gateways' VPC {gateway_vpc} (the "
            f"deployment's GatewayVpcId), not in {resolved['vpc_id']}"
        )


# ------------------------------------------------------------------ placement
def _placement(gateway: dict[str, Any], slot: int, settings: Settings) -> dict[str, Any]:
    return {
        "gateway_id": gateway["gateway_id"],
        "slot": slot,
        "routing": settings.routing,
        "status": gateway["status"],
    }


def routes_as_set(gateway: dict[str, Any], settings: Settings) -> bool:
    """Whether a gateway routes as the deployment does now: one made before GatewayDomain was
    set or cleared takes no new environment (its listeners are the other routing's); it empties
    as its environments go and is removed like any idle gateway."""
    made_for = (gateway.get("resources") or {}).get("routing", settings.routing)
    return bool(made_for == settings.routing)


def _free_slots(gateway: dict[str, Any], capacity: int) -> list[int]:
    taken = set(gateway["members"]) | set(gateway["blocked"])
    return [slot for slot in range(capacity) if gateway_registry.slot_key(slot) not in taken]


def place(env: str, scheme: str) -> dict[str, Any]:
    """A slot for `env` on a gateway of `scheme`: where it already is, else the first free slot
    of the oldest gateway with room, else a new gateway (registered CREATING: the caller makes
    it). Every claim is a conditional write: executions placing at the same moment never get
    the same slot, and one that loses a race reads again."""
    settings = Settings.load()
    capacity = settings.capacity()
    for _ in range(bounds.PLACEMENT_ROUNDS):
        gateways = gateway_registry.pool(scheme)
        for gateway in gateways:
            for key, member in gateway["members"].items():
                if member == env:
                    return _placement(gateway, gateway_registry.slot_of(key), settings)
        for gateway in gateways:
            if gateway["status"] not in gateway_registry.OPEN or not routes_as_set(
                gateway, settings
            ):
                continue
            for slot in _free_slots(gateway, capacity):
                if gateway_registry.add_member(gateway["gateway_id"], slot, env):
                    return _placement(gateway, slot, settings)
        number = max((int(gateway["number"]) for gateway in gateways), default=0) + 1
        gateway_registry.register(scheme, number)  # lost to a concurrent one: read again
    raise ResourceNotReady(
        f"no slot for environment {env!r} on the {scheme} gateways after "
        f"{bounds.PLACEMENT_ROUNDS} rounds of concurrent placements; retrying"
    )


def move(env: str, placement: dict[str, Any], why: str) -> dict[str, Any]:
    """`env`'s slot is unusable (`why`: AWS says its priority or port is taken by something
    fargate-env did not make): block it and take another free slot of the same gateway, or,
    when it has none, a place elsewhere."""
    settings = Settings.load()
    identifier, slot = placement["gateway_id"], placement["slot"]
    for _ in range(bounds.PLACEMENT_ROUNDS):
        gateway = gateway_registry.get(identifier)
        if gateway is None or gateway["members"].get(gateway_registry.slot_key(slot)) != env:
            break
        free = [s for s in _free_slots(gateway, settings.capacity()) if s != slot]
        if not free:
            break
        if gateway_registry.move_member(identifier, slot, free[0], env, why):
            return _placement(gateway, free[0], settings)
    raise AwsRequestFailed(
        f"environment {env!r}: slot {slot} of gateway {identifier} is taken outside fargate-env "
        f"({why}) and the gateway has no other free slot"
    )


# ------------------------------------------------------------------ a gateway's resources
def _world_ingress(settings: Settings) -> list[tuple[int, int]]:
    """Port ranges the gateway's group admits from everywhere: the routing rules filter (each
    environment's source-ip condition), the group is shared by every environment on it."""
    if settings.routing == HOST:
        return [(HTTP_PORT, HTTP_PORT), (HTTPS_PORT, HTTPS_PORT)]
    # Every port a gateway can ever give (not only its cap's): a cap raised later needs no
    # change of an existing gateway's group; a port without a listener answers nothing.
    last = settings.first_port + LISTENERS_PER_ALB - 2
    return [(HTTP_PORT, HTTP_PORT), (settings.first_port, last)]


def fixed_response(status: int, body: str) -> dict[str, Any]:
    return {
        "Type": "fixed-response",
        "FixedResponseConfig": {
            "StatusCode": str(status),
            "ContentType": "text/plain",
            "MessageBody": body,
        },
    }


def _gateway_listeners(settings: Settings) -> list[dict[str, Any]]:
    """The gateway's own listeners: with a domain, HTTPS 443 (the wildcard certificate; 404 for
    a host no rule knows) and HTTP 80 redirecting to it; without, HTTP 80 answering 404 (each
    environment has a listener of its own)."""
    if settings.routing == PORT:
        return [
            {
                "Port": HTTP_PORT,
                "Protocol": "HTTP",
                "DefaultActions": [fixed_response(404, NOT_FOUND_BODY)],
            }
        ]
    redirect = {
        "Type": "redirect",
        "RedirectConfig": {"Protocol": "HTTPS", "Port": str(HTTPS_PORT), "StatusCode": "HTTP_301"},
    }
    return [
        {
            "Port": HTTPS_PORT,
            "Protocol": "HTTPS",
            "Certificates": [{"CertificateArn": settings.certificate_arn}],
            "SslPolicy": load_balancers.DEFAULT_SSL_POLICY,
            "DefaultActions": [fixed_response(404, NOT_FOUND_BODY)],
        },
        {"Port": HTTP_PORT, "Protocol": "HTTP", "DefaultActions": [redirect]},
    ]


def holds_wildcard(gateway_id: str, settings: Settings) -> bool:
    """The first internet-facing gateway holds the `*.<domain>` alias of the hosted zone; an
    environment on any other gateway gets a record of its own."""
    return bool(settings.domain and settings.hosted_zone_id) and gateway_id == "e1"


def ensure_wildcard(gateway_id: str, lb: Mapping[str, Any], settings: Settings) -> None:
    """The `*.<domain>` alias to the gateway that holds it (none on the others). UPSERT: a
    record already there is written again, unchanged."""
    if holds_wildcard(gateway_id, settings):
        change_record("UPSERT", f"*.{settings.domain}", lb, settings)


def _record_change(action: str, name: str, lb: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "Action": action,
        "ResourceRecordSet": {
            "Name": name,
            "Type": "A",
            "AliasTarget": {
                "HostedZoneId": lb["canonical_hosted_zone_id"],
                "DNSName": lb["dns_name"],
                "EvaluateTargetHealth": False,
            },
        },
    }


def change_record(action: str, name: str, lb: Mapping[str, Any], settings: Settings) -> bool:
    """UPSERT or DELETE an alias record of the hosted zone; False when a DELETE finds none."""
    try:
        client("route53").change_resource_record_sets(
            HostedZoneId=settings.hosted_zone_id,
            ChangeBatch={
                "Comment": f"fargate-env {naming.deployment()}",
                "Changes": [_record_change(action, name, lb)],
            },
        )
    except Exception as exc:
        # Route 53 refuses to delete a record that is not there (or not with these values).
        if action == "DELETE" and error_code(exc) == "InvalidChangeBatch":
            return False
        raise
    return True


def ensure(gateway_id: str) -> dict[str, Any]:
    """The gateway's security group, load balancer and listeners (and the wildcard record),
    created if missing; the gateway READY. Idempotent: every environment placed on a gateway
    being made may call it at once. Never waits for the load balancer to be active."""
    gateway = gateway_registry.get(gateway_id)
    if gateway is None or gateway["status"] not in gateway_registry.OPEN:
        raise AwsRequestFailed(f"gateway {gateway_id} is being removed or gone")
    settings = Settings.load()
    if gateway["status"] == gateway_registry.READY:
        # The wildcard again (an UPSERT): a deployment that gains its hosted zone after its
        # first gateway was made gets it at the next environment placed there.
        ensure_wildcard(gateway_id, gateway["resources"], settings)
        return summary(gateway)
    where = _gateway_network(settings)
    name = naming.gateway_name(gateway_id)
    tags = naming.gateway_tags(gateway_id)
    group = security_groups.ensure_gateway_group(
        gateway_id, name, where["vpc_id"], _world_ingress(settings)
    )
    lb = load_balancers.ensure_gateway(
        gateway_id, name, gateway["scheme"], where["load_balancer_subnet_ids"], group, tags
    )
    listeners = load_balancers.ensure_gateway_listeners(lb, _gateway_listeners(settings), tags)
    ensure_wildcard(gateway_id, lb, settings)
    resources = {
        **lb,
        "security_group_id": group,
        "vpc_id": where["vpc_id"],
        "listeners": listeners,
        "routing": settings.routing,
    }
    if not gateway_registry.mark_ready(gateway_id, resources):
        raise AwsRequestFailed(f"gateway {gateway_id} started being removed while it was made")
    return summary({**gateway, "status": gateway_registry.READY, "resources": resources})


def summary(gateway: dict[str, Any]) -> dict[str, Any]:
    """What an environment's steps need of its gateway."""
    resources = gateway.get("resources") or {}
    return {
        "gateway_id": gateway["gateway_id"],
        "status": gateway["status"],
        "scheme": gateway["scheme"],
        **resources,
    }


def join(spec: NormalisedSpec, lb: LoadBalancerSpec) -> LoadBalancerRecord:
    """Shared mode's "Create the load balancer": a slot on a gateway of the environment's
    scheme, and that gateway's load balancer (made first when the environment is the first to
    need it: it then waits for the load balancer to be active, as a dedicated one would)."""
    placement = place(spec["name"], lb["scheme"])
    gateway = ensure(placement["gateway_id"])
    return {
        "id": lb["id"],
        "arn": gateway["arn"],
        "name": gateway["name"],
        "dns_name": gateway["dns_name"],
        "type": "application",
        "gateway": {**placement, "status": gateway["status"]},
    }


# ------------------------------------------------------------------ the gateways machine
def _idle_cutoff(settings: Settings) -> str | None:
    """Gateways empty since before this moment (registry time) are idle; None: never."""
    if settings.idle_minutes is None:
        return None
    at = clock.now() - 60 * settings.idle_minutes
    return datetime.fromtimestamp(at, tz=UTC).isoformat(timespec="seconds")


def plan() -> dict[str, list[str]]:
    """What the gateways machine does this run (its schedule). New gateways registered until
    GatewayWarmCount internet-facing gateways have room; gateways left CREATING finished;
    gateways empty for GatewayIdleMinutes marked DRAINING (a conditional write that fails when an
    environment joined meanwhile), never below the warm count; those left DRAINING by an earlier
    run removed in any case. At most MAX_GATEWAYS_PER_RUN of each: the next run does the rest."""
    settings = Settings.load()
    capacity = settings.capacity()
    gateways = gateway_registry.all_gateways()
    remove = [g["gateway_id"] for g in gateways if g["status"] == gateway_registry.DRAINING]
    live = [g for g in gateways if g["status"] in gateway_registry.OPEN]

    def warm(gateway: dict[str, Any]) -> bool:
        held = len(gateway["members"]) + len(gateway["blocked"])
        routed = routes_as_set(gateway, settings)
        return gateway["scheme"] == WARM_SCHEME and routed and held < capacity

    create: list[str] = []
    numbers = [int(g["number"]) for g in gateways if g["scheme"] == WARM_SCHEME]
    for _ in range(settings.warm_count - len([g for g in live if warm(g)])):
        numbers.append(max(numbers, default=0) + 1)
        if gateway_registry.register(WARM_SCHEME, numbers[-1]):
            create.append(gateway_registry.gateway_id(WARM_SCHEME, numbers[-1]))
    cutoff = _idle_cutoff(settings)
    if cutoff is not None:
        spare = len([g for g in live if warm(g)]) + len(create) - settings.warm_count
        for gateway in sorted(live, key=lambda g: -int(g["number"])):
            if gateway["members"] or (warm(gateway) and spare <= 0):
                continue
            if gateway_registry.mark_draining(gateway["gateway_id"], cutoff):
                remove.append(gateway["gateway_id"])
                spare -= 1 if warm(gateway) else 0
    create += [
        g["gateway_id"]
        for g in live
        if g["status"] == gateway_registry.CREATING and g["gateway_id"] not in remove
    ]
    limit = bounds.MAX_GATEWAYS_PER_RUN
    return {"create": create[:limit], "remove": remove[:limit]}


def make(gateway_id: str) -> dict[str, Any]:
    """A gateway the plan registered (or one left CREATING): its resources made, READY. One
    removed meanwhile is left alone."""
    gateway = gateway_registry.get(gateway_id)
    if gateway is None or gateway["status"] not in gateway_registry.OPEN:
        return {"gateway_id": gateway_id, "made": False}
    made = ensure(gateway_id)
    return {"gateway_id": gateway_id, "made": True, "dns_name": made["dns_name"]}


def remove(gateway_id: str) -> dict[str, Any]:
    """A DRAINING gateway's listeners, load balancer and wildcard record, then its security
    group (ResourceNotReady while its load balancer's network interfaces are being released:
    the machine retries, the load balancer already gone), then its registry item. Only what is
    tagged as this gateway's, and only a gateway the registry says is being removed."""
    gateway = gateway_registry.get(gateway_id)
    if gateway is None:
        return {"gateway_id": gateway_id, "deleted": []}
    if gateway["status"] != gateway_registry.DRAINING:
        raise AwsRequestFailed(
            f"gateway {gateway_id} is {gateway['status']}, not DRAINING: only an empty gateway "
            "marked for removal is removed"
        )
    settings = Settings.load()
    name = naming.gateway_name(gateway_id)
    lb = gateway.get("resources") or {}
    deleted = load_balancers.delete_gateway(gateway_id, name)
    wildcard = f"*.{settings.domain}"
    if (
        holds_wildcard(gateway_id, settings)
        and lb.get("dns_name")
        and change_record("DELETE", wildcard, lb, settings)
    ):
        deleted.append(f"record {wildcard}")
    deleted += security_groups.delete_gateway_group(gateway_id, name)
    gateway_registry.forget(gateway_id)
    return {"gateway_id": gateway_id, "deleted": deleted}
