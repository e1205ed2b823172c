"""The environment spec: every bad field is named in the error, defaults reproduce the runbook's
example, and every name derived from a valid spec is one AWS accepts."""

from __future__ import annotations

import json
import re
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fargate_env import naming, spec
from fargate_env.errors import InvalidSpec
from tests.support import EVENTS

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000001"
SSM_PARAMETER = "arn:aws:ssm:us-east-1:123456789012:parameter/fargate-env/demo/db-password"
EFS = "fs-0123456789abcdef0"
ACCESS_POINT = "fsap-0123456789abcdef0"
SUBNET_A = "subnet-0123456789abcdef0"
SUBNET_B = "subnet-0123456789abcdef1"


def make_spec(**fields: Any) -> dict[str, Any]:
    """A raw spec named "demo" with the given top-level fields."""
    return {"name": "demo", **fields}


def with_container(**fields: Any) -> dict[str, Any]:
    return make_spec(container=fields)


def with_lb(**fields: Any) -> dict[str, Any]:
    """A spec with one load balancer made of `fields`."""
    return make_spec(load_balancers=[fields])


def with_listeners(*listeners: dict[str, Any], lb_type: str = "application") -> dict[str, Any]:
    return with_lb(type=lb_type, listeners=list(listeners))


def http(port: int = 80, **fields: Any) -> dict[str, Any]:
    return {"port": port, "protocol": "HTTP", **fields}


def https(port: int = 443, **fields: Any) -> dict[str, Any]:
    return {"port": port, "protocol": "HTTPS", "certificate_arn": CERT, **fields}


def with_target_group(lb_type: str = "application", **fields: Any) -> dict[str, Any]:
    return with_lb(type=lb_type, target_group=fields)


def with_volumes(*volumes: dict[str, Any]) -> dict[str, Any]:
    return with_container(volumes=list(volumes))


def efs_volume(**efs: Any) -> dict[str, Any]:
    return {
        "name": "shared",
        "container_path": "/mnt/shared",
        "efs": {"file_system_id": EFS, **efs},
    }


def with_providers(*providers: dict[str, Any]) -> dict[str, Any]:
    return make_spec(cluster={"capacity_providers": list(providers)})


def problem_paths_named(message: str, path: str) -> bool:
    """True when `message` reports a problem at exactly `path` ("<path>: <what is wrong>"): the
    path starts the message or follows the ": " / "; " that separates problems."""
    return re.search(r"(?:^|: |; )" + re.escape(path) + ": ", message) is not None


INVALID_SPECS = [
    # --- environment name -------------------------------------------------------------------
    pytest.param({}, ["name"], id="name-missing"),
    pytest.param(make_spec(name=42), ["name"], id="name-not-a-string"),
    pytest.param(make_spec(name=""), ["name"], id="name-empty"),
    pytest.param(make_spec(name="Demo"), ["name"], id="name-uppercase"),
    pytest.param(make_spec(name="my_env"), ["name"], id="name-underscore"),
    pytest.param(make_spec(name="1demo"), ["name"], id="name-leading-digit"),
    pytest.param(make_spec(name="-demo"), ["name"], id="name-leading-hyphen"),
    pytest.param(make_spec(name="demo-"), ["name"], id="name-trailing-hyphen"),
    pytest.param(make_spec(name="my--env"), ["name"], id="name-double-hyphen"),
    pytest.param(make_spec(name="a"), ["name"], id="name-one-character"),
    pytest.param(make_spec(name="a" * 21), ["name"], id="name-21-characters"),
    pytest.param(make_spec(name="demo\n"), ["name"], id="name-trailing-newline"),
    pytest.param(make_spec(name="dé-mo"), ["name"], id="name-non-ascii"),
    # 5 ("fenv-") + 20 + 1 + 7 = 33 > ELBv2's 32: the id, not the name, is over its limit.
    pytest.param(
        make_spec(name="a" * 20, load_balancers=[{"id": "abcdefg"}]),
        ["load_balancers[0].id"],
        id="name-plus-lb-id-33-characters",
    ),
    # --- container size ---------------------------------------------------------------------
    pytest.param(with_container(cpu=256, memory=4096), ["container.memory"], id="cpu256-mem4096"),
    pytest.param(with_container(cpu=1024, memory=1024), ["container.memory"], id="cpu1024-mem1024"),
    pytest.param(with_container(cpu=4096, memory=7000), ["container.memory"], id="cpu4096-mem7000"),
    pytest.param(
        with_container(cpu=16384, memory=36000), ["container.memory"], id="cpu16384-mem36000"
    ),
    pytest.param(with_container(cpu=300, memory=512), ["container.cpu"], id="cpu-300"),
    pytest.param(with_container(memory="lots"), ["container.memory"], id="memory-not-a-number"),
    # --- container ----------------------------------------------------------------------------
    pytest.param(with_container(port=0), ["container.port"], id="container-port-0"),
    pytest.param(with_container(port=70000), ["container.port"], id="container-port-70000"),
    pytest.param(with_container(port="eighty"), ["container.port"], id="container-port-string"),
    pytest.param(with_container(image="nginx latest"), ["container.image"], id="image-space"),
    pytest.param(with_container(image="nginx\n"), ["container.image"], id="image-newline"),
    pytest.param(
        with_container(cpu_architecture="arm"), ["container.cpu_architecture"], id="bad-arch"
    ),
    pytest.param(
        with_container(log_retention_days=10),
        ["container.log_retention_days"],
        id="log-retention-10-days",
    ),
    pytest.param(
        with_container(secrets={"DB_PASSWORD": "hunter2"}),
        ["container.secrets.DB_PASSWORD"],
        id="secret-plain-value",
    ),
    pytest.param(
        with_container(secrets={"DB_PASSWORD": SSM_PARAMETER + "\n"}),
        ["container.secrets.DB_PASSWORD"],
        id="secret-arn-trailing-newline",
    ),
    pytest.param(
        with_container(environment={"DB_PASSWORD": "x"}, secrets={"DB_PASSWORD": SSM_PARAMETER}),
        ["container.secrets"],
        id="variable-in-environment-and-secrets",
    ),
    pytest.param(
        with_container(health_check={"command": ["curl", "-f", "http://localhost/"]}),
        ["container.health_check.command"],
        id="container-health-check-without-cmd",
    ),
    pytest.param(
        with_container(health_check={"command": ["CMD"]}),
        ["container.health_check.command"],
        id="container-health-check-only-cmd",
    ),
    # --- volumes ------------------------------------------------------------------------------
    pytest.param(
        with_volumes({"name": "a", "container_path": "/a"}, {"name": "a", "container_path": "/b"}),
        ["container.volumes"],
        id="volume-names-duplicated",
    ),
    pytest.param(
        with_volumes({"name": "a", "container_path": "/a"}, {"name": "b", "container_path": "/a"}),
        ["container.volumes"],
        id="volume-paths-duplicated",
    ),
    pytest.param(
        with_volumes({"name": "a", "container_path": "relative"}),
        ["container.volumes[0].container_path"],
        id="volume-path-relative",
    ),
    pytest.param(
        with_volumes(efs_volume(access_point_id=ACCESS_POINT, transit_encryption=False)),
        ["container.volumes[0].efs"],
        id="efs-access-point-without-transit-encryption",
    ),
    pytest.param(
        with_volumes(efs_volume(access_point_id=ACCESS_POINT, root_directory="/data")),
        ["container.volumes[0].efs"],
        id="efs-access-point-with-root-directory",
    ),
    pytest.param(
        with_volumes(efs_volume(file_system_id="fs-xyz")),
        ["container.volumes[0].efs.file_system_id"],
        id="efs-bad-file-system-id",
    ),
    # --- load balancers -----------------------------------------------------------------------
    pytest.param(make_spec(load_balancers=[]), ["load_balancers"], id="no-load-balancers"),
    pytest.param(
        make_spec(load_balancers=[{"id": f"lb{i}"} for i in range(6)]),
        ["load_balancers"],
        id="six-load-balancers",
    ),
    pytest.param(
        make_spec(load_balancers=[{"id": "web"}, {"id": "web", "type": "network"}]),
        ["load_balancers"],
        id="load-balancer-ids-duplicated",
    ),
    pytest.param(with_lb(id="Web"), ["load_balancers[0].id"], id="lb-id-uppercase"),
    pytest.param(with_lb(id="1web"), ["load_balancers[0].id"], id="lb-id-leading-digit"),
    pytest.param(with_lb(type="gateway"), ["load_balancers[0].type"], id="lb-type-gateway"),
    pytest.param(
        with_lb(ingress_cidrs=["not-a-network"]),
        ["load_balancers[0].ingress_cidrs"],
        id="cidr-not-a-network",
    ),
    pytest.param(
        with_lb(ingress_cidrs=["10.0.0.1/8"]),
        ["load_balancers[0].ingress_cidrs"],
        id="cidr-host-bits-set",
    ),
    pytest.param(
        with_lb(ingress_cidrs=["10.0.0.0"]),
        ["load_balancers[0].ingress_cidrs"],
        id="cidr-missing-prefix",
    ),
    pytest.param(with_lb(ingress_cidrs=[]), ["load_balancers[0].ingress_cidrs"], id="cidrs-empty"),
    # --- listeners ----------------------------------------------------------------------------
    pytest.param(with_lb(listeners=[]), ["load_balancers[0].listeners"], id="listeners-empty"),
    pytest.param(
        with_listeners(http(port=0)), ["load_balancers[0].listeners[0].port"], id="listener-port-0"
    ),
    pytest.param(
        with_listeners(http(port=70000)),
        ["load_balancers[0].listeners[0].port"],
        id="listener-port-70000",
    ),
    pytest.param(
        with_listeners(http(port="http")),
        ["load_balancers[0].listeners[0].port"],
        id="listener-port-string",
    ),
    pytest.param(
        with_listeners({"port": 53, "protocol": "UDP"}, lb_type="network"),
        ["load_balancers[0].listeners[0].protocol"],
        id="listener-udp",
    ),
    pytest.param(
        with_listeners({"port": 443, "protocol": "HTTPS"}),
        ["load_balancers[0].listeners[0]"],
        id="https-without-certificate",
    ),
    pytest.param(
        with_listeners(http(certificate_arn=CERT)),
        ["load_balancers[0].listeners[0]"],
        id="certificate-on-http",
    ),
    pytest.param(
        with_listeners(http(ssl_policy=spec.DEFAULT_SSL_POLICY)),
        ["load_balancers[0].listeners[0]"],
        id="ssl-policy-on-http",
    ),
    pytest.param(
        with_listeners(https(certificate_arn="my-certificate")),
        ["load_balancers[0].listeners[0]"],
        id="certificate-not-an-arn",
    ),
    pytest.param(
        with_listeners(https(redirect_to_https=True)),
        ["load_balancers[0].listeners[0]"],
        id="redirect-on-https-listener",
    ),
    pytest.param(
        with_listeners({"port": 443, "protocol": "TLS", "certificate_arn": CERT}),
        ["load_balancers[0].listeners"],
        id="tls-on-alb",
    ),
    pytest.param(
        with_listeners(http(), lb_type="network"),
        ["load_balancers[0].listeners"],
        id="http-on-nlb",
    ),
    pytest.param(
        with_listeners(http(redirect_to_https=True), http(port=8080)),
        ["load_balancers[0].listeners"],
        id="redirect-without-https-listener",
    ),
    pytest.param(
        with_listeners(http(redirect_to_https=True), http(port=8080, redirect_to_https=True)),
        ["load_balancers[0].listeners"],
        id="every-listener-redirects",
    ),
    pytest.param(
        with_listeners(http(), http()), ["load_balancers[0].listeners"], id="listener-ports-equal"
    ),
    # --- target groups ------------------------------------------------------------------------
    pytest.param(
        with_target_group(stickiness={"type": "lb_cookie"}, lb_type="network"),
        ["load_balancers[0].target_group.stickiness.type"],
        id="lb-cookie-on-nlb",
    ),
    pytest.param(
        with_target_group(stickiness={"type": "source_ip"}),
        ["load_balancers[0].target_group.stickiness.type"],
        id="source-ip-on-alb",
    ),
    pytest.param(
        with_target_group(protocol="TCP"),
        ["load_balancers[0].target_group.protocol"],
        id="tcp-target-group-on-alb",
    ),
    pytest.param(
        with_target_group(health_check={"protocol": "TCP"}),
        ["load_balancers[0].target_group.health_check.protocol"],
        id="tcp-health-check-on-alb",
    ),
    pytest.param(
        with_target_group(health_check={"protocol": "HTTPS"}, lb_type="network"),
        ["load_balancers[0].target_group.health_check.protocol"],
        id="https-health-check-on-nlb-tcp-target-group",
    ),
    pytest.param(
        with_target_group(health_check={"interval_seconds": 10, "timeout_seconds": 10}),
        ["load_balancers[0].target_group.health_check"],
        id="health-check-timeout-equals-interval",
    ),
    pytest.param(
        with_target_group(health_check={"matcher": "OK"}),
        ["load_balancers[0].target_group.health_check.matcher"],
        id="health-check-matcher-word",
    ),
    pytest.param(
        with_target_group(health_check={"matcher": "200-"}),
        ["load_balancers[0].target_group.health_check.matcher"],
        id="health-check-matcher-open-range",
    ),
    pytest.param(
        with_target_group(health_check={"port": "70000"}),
        ["load_balancers[0].target_group.health_check"],
        id="health-check-port-70000",
    ),
    # --- tags ---------------------------------------------------------------------------------
    pytest.param(make_spec(tags={f"key{i}": "value" for i in range(49)}), ["tags"], id="49-tags"),
    pytest.param(make_spec(tags={"aws:team": "x"}), ["tags"], id="tag-prefix-aws"),
    pytest.param(make_spec(tags={"AWS:team": "x"}), ["tags"], id="tag-prefix-aws-uppercase"),
    pytest.param(make_spec(tags={"fargate-env:team": "x"}), ["tags"], id="tag-prefix-ours"),
    pytest.param(make_spec(tags={"team": "x" * 257}), ["tags"], id="tag-value-257-chars"),
    pytest.param(make_spec(tags={"k" * 129: "x"}), ["tags"], id="tag-key-129-chars"),
    pytest.param(make_spec(tags={"": "x"}), ["tags"], id="tag-key-empty"),
    pytest.param(make_spec(tags={"team#1": "x"}), ["tags"], id="tag-key-bad-character"),
    pytest.param(make_spec(tags={"team": "a\nb"}), ["tags"], id="tag-value-newline"),
    # --- cluster ------------------------------------------------------------------------------
    pytest.param(
        with_providers({"provider": "FARGATE", "weight": 0}),
        ["cluster.capacity_providers"],
        id="capacity-providers-all-weight-0",
    ),
    pytest.param(
        with_providers({"provider": "FARGATE"}, {"provider": "FARGATE"}),
        ["cluster.capacity_providers"],
        id="capacity-provider-duplicated",
    ),
    pytest.param(
        with_providers({"provider": "FARGATE", "base": 1}, {"provider": "FARGATE_SPOT", "base": 1}),
        ["cluster.capacity_providers"],
        id="capacity-providers-two-bases",
    ),
    pytest.param(
        with_providers({"provider": "EC2"}),
        ["cluster.capacity_providers[0].provider"],
        id="capacity-provider-ec2",
    ),
    pytest.param(with_providers(), ["cluster.capacity_providers"], id="capacity-providers-empty"),
    # --- service, network, polling, lifecycle -------------------------------------------------
    pytest.param(
        make_spec(service={"desired_count": 0}), ["service.desired_count"], id="desired-count-0"
    ),
    pytest.param(make_spec(network={"vpc_id": "vpc-xyz"}), ["network.vpc_id"], id="bad-vpc-id"),
    pytest.param(
        make_spec(network={"subnet_ids": [SUBNET_A, "subnet-1"]}),
        ["network.subnet_ids[1]"],
        id="bad-subnet-id",
    ),
    pytest.param(
        make_spec(network={"subnet_ids": [SUBNET_A, SUBNET_A]}),
        ["network.subnet_ids"],
        id="subnet-ids-duplicated",
    ),
    pytest.param(
        make_spec(network={"load_balancer_subnet_ids": [SUBNET_A, SUBNET_B]}),
        ["network"],
        id="load-balancer-subnets-without-task-subnets",
    ),
    pytest.param(
        make_spec(polling={"interval_seconds": 120, "deadline_seconds": 60}),
        ["polling"],
        id="polling-deadline-below-interval",
    ),
    pytest.param(
        make_spec(polling={"deadline_seconds": 30}),
        ["polling.deadline_seconds"],
        id="polling-deadline-30s",
    ),
    pytest.param(
        make_spec(polling={"interval_seconds": 1, "deadline_seconds": 7200}),
        ["polling.interval_seconds"],
        id="polling-more-looks-than-the-execution-history-holds",
    ),
    pytest.param(
        make_spec(time_to_live_minutes=5), ["time_to_live_minutes"], id="time-to-live-5-minutes"
    ),
    pytest.param(make_spec(on_failure="delete"), ["on_failure"], id="on-failure-delete"),
    # --- unknown fields, shape ----------------------------------------------------------------
    pytest.param(make_spec(bogus=1), ["bogus"], id="unknown-top-level-field"),
    pytest.param(
        with_container(imagee="nginx"), ["container.imagee"], id="unknown-container-field"
    ),
    pytest.param(
        with_listeners(http(protocoll="HTTP")),
        ["load_balancers[0].listeners[0].protocoll"],
        id="unknown-listener-field",
    ),
    pytest.param(
        make_spec(service={"desired_count": 1, "replicas": 2}),
        ["service.replicas"],
        id="unknown-service-field",
    ),
    pytest.param(["demo"], ["spec"], id="spec-is-a-list"),
    pytest.param("demo", ["spec"], id="spec-is-a-string"),
    pytest.param(None, ["spec"], id="spec-is-null"),
]


@pytest.mark.parametrize(("raw", "paths"), INVALID_SPECS)
def test_invalid_spec_names_the_bad_field(raw, paths):
    # Given a spec with one problem (and the path of the field it is in)
    # When it is parsed
    with pytest.raises(InvalidSpec) as raised:
        spec.parse(raw)
    # Then the error names that field
    message = str(raised.value)
    for path in paths:
        assert problem_paths_named(message, path), f"{path!r} not named in: {message}"


def test_the_invalid_spec_table_is_large_enough():
    assert len(INVALID_SPECS) >= 45


def test_every_problem_of_a_spec_is_reported_at_once():
    # Given a spec with five independent problems in five different places
    raw = {
        "name": "Bad_Name",
        "container": {"cpu": 300, "port": 0},
        "load_balancers": [{"id": "web", "listeners": [{"port": 443, "protocol": "HTTPS"}]}],
        "tags": {"aws:team": "x"},
        "bogus": True,
    }
    # When it is parsed
    with pytest.raises(InvalidSpec) as raised:
        spec.parse(raw)
    # Then one error lists all of them
    message = str(raised.value)
    assert "(6 problems)" in message
    for path in (
        "name",
        "container.cpu",
        "container.port",
        "load_balancers[0].listeners[0]",
        "tags",
        "bogus",
    ):
        assert problem_paths_named(message, path), f"{path!r} not named in: {message}"


# --- valid specs ---------------------------------------------------------------------------------


def test_defaults_reproduce_the_runbook_example():
    # Given only a name
    # When the spec is parsed and normalised
    data = spec.normalise(spec.parse({"name": "demo"}))
    # Then every default is the runbook's nginx example
    assert data["name"] == "demo"
    container = data["container"]
    assert (container["image"], container["port"]) == ("nginx:latest", 80)
    assert (container["cpu"], container["memory"]) == (256, 512)
    assert container["secrets"] == {}
    assert container["environment"] == {}
    assert data["service"]["desired_count"] == 1
    assert data["service"]["circuit_breaker"] is True
    assert data["service"]["enable_execute_command"] is False
    assert data["cluster"]["container_insights"] is True
    assert data["cluster"]["capacity_providers"] == [
        {"provider": "FARGATE", "weight": 1, "base": 0}
    ]
    [lb] = data["load_balancers"]
    assert (lb["id"], lb["type"], lb["scheme"]) == ("web", "application", "internet-facing")
    assert lb["ingress_cidrs"] == ["0.0.0.0/0"]
    assert [(item["port"], item["protocol"]) for item in lb["listeners"]] == [(80, "HTTP")]
    assert lb["target_group"]["protocol"] == "HTTP"
    assert data["network"] == {"vpc_id": None, "subnet_ids": [], "load_balancer_subnet_ids": []}
    assert data["on_failure"] == "rollback"
    assert data["time_to_live_minutes"] is None
    assert data["tags"] == {}


def test_the_normalised_spec_is_plain_json():
    # Given a spec using most features
    raw = json.loads((EVENTS / "inputs" / "provision-secrets-volumes.json").read_text())["spec"]
    # When it is normalised
    data = spec.normalise(spec.parse(raw))
    # Then it survives a JSON round trip unchanged (the state machine passes it as JSON)
    assert json.loads(json.dumps(data)) == data


def test_a_network_load_balancer_defaults_to_tcp_80():
    # Given a network load balancer without listeners or target group protocol
    raw = {"name": "demo", "load_balancers": [{"id": "tcp", "type": "network"}]}
    # When it is parsed and normalised
    [lb] = spec.normalise(spec.parse(raw))["load_balancers"]
    # Then it gets a TCP 80 listener and a TCP target group
    assert [(item["port"], item["protocol"]) for item in lb["listeners"]] == [(80, "TCP")]
    assert lb["target_group"]["protocol"] == "TCP"


def test_secure_listeners_get_the_default_ssl_policy_unless_one_is_given():
    # Given an HTTPS listener without a policy, one with a policy, and a plain HTTP listener
    raw = with_listeners(
        https(port=443),
        https(port=8443, ssl_policy="ELBSecurityPolicy-TLS13-1-3-2021-06"),
        http(port=80, redirect_to_https=True),
    )
    # When it is normalised
    [lb] = spec.normalise(spec.parse(raw))["load_balancers"]
    # Then only the policy-less secure listener gets the default; HTTP gets none
    policies = {item["port"]: item["ssl_policy"] for item in lb["listeners"]}
    assert policies == {
        443: spec.DEFAULT_SSL_POLICY,
        8443: "ELBSecurityPolicy-TLS13-1-3-2021-06",
        80: None,
    }


def test_a_tls_listener_on_a_network_load_balancer_gets_the_default_ssl_policy():
    raw = with_listeners(
        {"port": 443, "protocol": "TLS", "certificate_arn": CERT}, lb_type="network"
    )
    [lb] = spec.normalise(spec.parse(raw))["load_balancers"]
    assert [item["ssl_policy"] for item in lb["listeners"]] == [spec.DEFAULT_SSL_POLICY]


SAMPLE_INPUTS = sorted((EVENTS / "inputs").glob("provision-*.json"))


def test_there_are_sample_inputs():
    assert len(SAMPLE_INPUTS) >= 4


@pytest.mark.parametrize("path", SAMPLE_INPUTS, ids=lambda path: path.stem)
def test_each_sample_input_parses(path):
    # Given a sample execution input
    raw = json.loads(path.read_text())["spec"]
    # When its spec is parsed
    parsed = spec.parse(raw)
    # Then it is valid and keeps its name
    assert parsed.name == raw["name"]


# --- properties: valid specs yield AWS-valid names -----------------------------------------------

LOWER_DIGITS = string.ascii_lowercase + string.digits
ELBV2_NAME = re.compile(r"[A-Za-z0-9-]{1,32}")
ECS_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")
LOG_GROUP_NAME = re.compile(r"[\.\-_/#A-Za-z0-9]{1,512}")
SCHEDULE_NAME = re.compile(r"[0-9a-zA-Z\-_.]{1,64}")
VALID_IDS = st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True)
TAG_ALPHABET = string.ascii_letters + string.digits + " _.:/=+-@" + "éßΩ日本"


@st.composite
def environment_names(draw):
    """2-20 characters: a lowercase letter, then lowercase letters, digits and single hyphens,
    ending with a letter or digit."""
    first = draw(st.sampled_from(string.ascii_lowercase))
    middle = draw(st.text(alphabet=LOWER_DIGITS + "-", max_size=18))
    last = draw(st.sampled_from(LOWER_DIGITS))
    name = first + middle + last
    assume("--" not in name)
    return name


def certificate_fields(draw):
    fields = {"certificate_arn": CERT}
    if draw(st.booleans()):
        fields["ssl_policy"] = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    return fields


@st.composite
def listeners_for(draw, lb_type):
    ports = draw(st.lists(st.integers(1, 65535), min_size=1, max_size=4, unique=True))
    if lb_type == "application":
        protocols = [draw(st.sampled_from(["HTTP", "HTTPS"])) for _ in ports]
    else:
        protocols = [draw(st.sampled_from(["TCP", "TLS"])) for _ in ports]
    has_https = "HTTPS" in protocols
    listeners = []
    for port, protocol in zip(ports, protocols, strict=True):
        listener: dict[str, Any] = {"port": port, "protocol": protocol}
        if protocol in ("HTTPS", "TLS"):
            listener.update(certificate_fields(draw))
        elif protocol == "HTTP" and has_https and draw(st.booleans()):
            listener["redirect_to_https"] = True
        listeners.append(listener)
    return listeners


@st.composite
def load_balancers(draw):
    ids = draw(
        st.lists(
            VALID_IDS,
            min_size=1,
            max_size=5,
            unique=True,
        )
    )
    result = []
    for lb_id in ids:
        lb_type = draw(st.sampled_from(["application", "network"]))
        lb: dict[str, Any] = {
            "id": lb_id,
            "type": lb_type,
            "scheme": draw(st.sampled_from(["internet-facing", "internal"])),
            "ingress_cidrs": draw(
                st.lists(
                    st.sampled_from(["0.0.0.0/0", "10.0.0.0/8", "192.168.1.0/24", "::/0"]),
                    min_size=1,
                    max_size=3,
                    unique=True,
                )
            ),
        }
        if draw(st.booleans()):
            lb["listeners"] = draw(listeners_for(lb_type))
        if lb_type == "application":
            tg_protocol = draw(st.sampled_from([None, "HTTP", "HTTPS"]))
            health_protocols = ["HTTP", "HTTPS"]
            stickiness = {"type": "lb_cookie", "duration_seconds": draw(st.integers(1, 604800))}
        else:
            tg_protocol = draw(st.sampled_from([None, "TCP", "TLS"]))
            health_protocols = ["HTTP", "TCP"] + (["HTTPS"] if tg_protocol == "TLS" else [])
            stickiness = {"type": "source_ip"}
        target_group: dict[str, Any] = {
            "protocol": tg_protocol,
            "health_check": {"protocol": draw(st.sampled_from(health_protocols))},
        }
        if draw(st.booleans()):
            target_group["stickiness"] = stickiness
        lb["target_group"] = target_group
        result.append(lb)
    return result


tag_keys = st.text(alphabet=TAG_ALPHABET, min_size=1, max_size=128).filter(
    lambda key: not key.lower().startswith("aws:") and not key.startswith("fargate-env:")
)
tag_values = st.text(alphabet=TAG_ALPHABET, max_size=256)
task_sizes = st.sampled_from(sorted(spec.FARGATE_TASK_SIZES)).flatmap(
    lambda cpu: st.tuples(st.just(cpu), st.sampled_from(spec.FARGATE_TASK_SIZES[cpu]))
)


@st.composite
def valid_specs(draw):
    cpu, memory = draw(task_sizes)
    return {
        "name": draw(environment_names()),
        "container": {"cpu": cpu, "memory": memory, "port": draw(st.integers(1, 65535))},
        "load_balancers": draw(load_balancers()),
        "tags": draw(st.dictionaries(tag_keys, tag_values, max_size=naming.MAX_USER_TAGS)),
    }


def assert_elbv2_name(name: str) -> None:
    assert ELBV2_NAME.fullmatch(name), name
    assert not name.startswith("-"), name
    assert not name.endswith("-"), name
    assert not name.startswith("internal-"), name


def assert_security_group_name(name: str) -> None:
    assert len(name) <= 255, name
    assert not name.startswith("sg-"), name


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=valid_specs())
def test_valid_specs_parse_and_every_derived_name_is_valid_on_aws(raw):
    # Given a valid spec built from the rules; When it is parsed
    parsed = spec.parse(raw)
    spec.normalise(parsed)
    env = parsed.name
    # Then every resource name derived from it is one AWS accepts
    for lb in parsed.load_balancers:
        assert_elbv2_name(naming.load_balancer_name(env, lb.id))
        assert_elbv2_name(naming.target_group_name(env, lb.id))
        group = naming.load_balancer_security_group_name(env, lb.id)
        assert_security_group_name(group)
    assert_security_group_name(naming.tasks_security_group_name(env))
    for name in (naming.cluster_name(env), naming.service_name(env), naming.task_family(env)):
        assert ECS_NAME.fullmatch(name), name
    assert LOG_GROUP_NAME.fullmatch(naming.log_group_name(env))
    assert SCHEDULE_NAME.fullmatch(naming.schedule_name(env))
    # And so are the tags every resource carries
    tags = naming.environment_tags(env, parsed.tags)
    assert len(tags) <= 50
    assert all(1 <= len(key) <= 128 and len(value) <= 256 for key, value in tags.items())


def parse_or_none(raw):
    try:
        return spec.parse(raw)
    except InvalidSpec:
        return None


@st.composite
def spoilt(draw, valid):
    """A valid value with a character that may or may not be allowed inserted anywhere."""
    value = draw(valid)
    index = draw(st.one_of(st.just(len(value)), st.integers(0, len(value))))  # often at the end
    char = draw(st.sampled_from(["\n", "\t", " ", "-", "_", "A", "é", "0", "x", "\u0131"]))
    return value[:index] + char + value[index:]


# Mostly valid names and ids (so that enough are accepted), spoilt ones (a character inserted:
# "x" or "0" may keep it valid, "\n", "A" or "_" never), text over a small alphabet and any text.
names_of_any_kind = st.one_of(
    environment_names(),
    environment_names(),
    environment_names(),
    spoilt(environment_names()),
    st.text(alphabet="az09-_A \n", min_size=1, max_size=22),
    st.text(max_size=24),
)
ids_of_any_kind = st.one_of(
    VALID_IDS,
    VALID_IDS,
    VALID_IDS,
    spoilt(VALID_IDS),
    st.text(max_size=8),
)


# Most arbitrary inputs are rejected by design: that is what this property filters.
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    name=names_of_any_kind, lb_ids=st.lists(ids_of_any_kind, min_size=1, max_size=3, unique=True)
)
def test_any_accepted_name_yields_elbv2_names_within_32_characters(name, lb_ids):
    # Given any name and load balancer ids; When the model accepts them
    raw = {"name": name, "load_balancers": [{"id": lb_id} for lb_id in lb_ids]}
    parsed = parse_or_none(raw)
    assume(parsed is not None)
    assert parsed is not None
    # Then the load balancer and target group names fit ELBv2's rules
    for lb in parsed.load_balancers:
        assert_elbv2_name(naming.load_balancer_name(parsed.name, lb.id))
        assert_elbv2_name(naming.target_group_name(parsed.name, lb.id))


# --- security-group rule quota -------------------------------------------------------------------


def ten_listeners(**lb: Any) -> dict[str, Any]:
    return with_lb(listeners=[http(port) for port in range(8000, 8010)], **lb)


def cidrs(count: int, version: int = 4) -> list[str]:
    if version == 6:
        return [f"2001:db8:{i:x}::/48" for i in range(count)]
    return [f"10.{i}.0.0/16" for i in range(count)]


def test_listeners_times_cidrs_beyond_the_rule_quota_are_refused_naming_the_cidrs():
    # Given 10 listener ports open to 6 CIDRs: 60 rules, plus 10 naming the in-VPC probe
    raw = ten_listeners(ingress_cidrs=cidrs(6))

    # When / Then: over AWS's default of 60 inbound rules per security group
    with pytest.raises(InvalidSpec) as raised:
        spec.parse(raw)
    message = str(raised.value)
    assert problem_paths_named(message, "load_balancers[0].ingress_cidrs"), message
    assert "10 listener port(s) x 6 IPv4 CIDR(s) + 10 for the in-VPC endpoint check" in message
    assert "make 70 inbound IPv4 rules" in message


def test_the_rule_quota_is_the_deployments_when_raised():
    raw = ten_listeners(ingress_cidrs=cidrs(6))

    parsed = spec.parse(raw, security_group_rule_quota=70)

    assert len(parsed.load_balancers[0].ingress_cidrs) == 6


def test_ipv4_and_ipv6_rules_count_against_the_quota_separately():
    # 10 ports x (0.0.0.0/0 + 5 IPv4) = 60 IPv4 rules, 10 x 5 = 50 IPv6 rules: both fit
    world_open = ["0.0.0.0/0", *cidrs(5), *cidrs(5, version=6)]

    assert spec.parse(ten_listeners(ingress_cidrs=world_open))

    # one more IPv4 CIDR is one rule per port too many
    with pytest.raises(InvalidSpec, match="make 70 inbound IPv4 rules"):
        spec.parse(ten_listeners(ingress_cidrs=[*world_open, "192.0.2.0/24"]))


def test_validate_spec_applies_the_deployments_rule_quota(monkeypatch):
    from fargate_env import ingress, validation

    raw = ten_listeners(ingress_cidrs=cidrs(6))
    with pytest.raises(InvalidSpec, match="the quota is 60 per group"):
        validation.validate({"spec": raw})

    monkeypatch.setenv(ingress.RULES_QUOTA_ENV, "100")
    assert validation.validate({"spec": raw})["spec"]["load_balancers"][0]["ingress_cidrs"]


def test_a_request_for_another_deployment_is_refused_naming_the_field(monkeypatch):
    from fargate_env import naming, validation

    monkeypatch.setenv(naming.DEPLOYMENT_ENV, "fargate-env-staging")
    request = {"spec": {"name": "demo"}, "deployment": "fargate-env-prod"}

    with pytest.raises(InvalidSpec, match=r"^deployment: the request is for .*fargate-env-prod"):
        validation.validate(request)

    request["deployment"] = "fargate-env-staging"
    assert validation.validate(request)["spec"]["name"] == "demo"


def test_a_cpu_without_a_memory_it_allows_is_refused_naming_memory():
    # (the default 512 MiB goes with 256 CPU units only: Fargate would refuse the task)
    with pytest.raises(
        InvalidSpec, match=r"container\.memory: 512 MiB is not allowed with cpu 512"
    ):
        spec.parse({"name": "demo", "container": {"cpu": 512}})
    assert spec.parse({"name": "demo", "container": {"cpu": 512, "memory": 1024}})


# ---------------------------------------------------------------- mode: dedicated | shared
def test_the_mode_is_dedicated_unless_the_spec_says_shared():
    assert spec.normalise(spec.parse({"name": "a1"}))["mode"] == "dedicated"
    assert spec.normalise(spec.parse({"name": "a1", "mode": "shared"}))["mode"] == "shared"


def interval(fields: dict[str, Any]) -> int:
    return int(spec.normalise(spec.parse({"name": "a1", **fields}))["polling"]["interval_seconds"])


def test_shared_mode_looks_more_often_unless_the_spec_says_how_often():
    assert interval({}) == 10
    assert interval({"mode": "shared"}) == 5  # the gateway is active: only the task is awaited
    assert interval({"mode": "shared", "polling": {"interval_seconds": 10}}) == 10
    # a long deadline: as often as the history allows (720 looks)
    assert interval({"mode": "shared", "polling": {"deadline_seconds": 7200}}) == 10
    assert interval({"mode": "shared", "polling": {"deadline_seconds": 4000}}) == 6


def test_an_unknown_mode_is_refused_naming_the_field():
    with pytest.raises(InvalidSpec, match=r"\bmode: "):
        spec.parse({"name": "a1", "mode": "gateway"})


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"load_balancers": [{"id": "a"}, {"id": "b"}]}, "load_balancers: shared mode takes"),
        ({"load_balancers": [{"id": "a", "type": "network"}]}, "load_balancers[0].type"),
        (
            {"load_balancers": [{"id": "a", "listeners": [{"port": 80, "protocol": "HTTP"}]}]},
            "load_balancers[0].listeners",
        ),
        (
            {
                "load_balancers": [
                    {"id": "a", "ingress_cidrs": [f"10.0.{i}.0/24" for i in range(5)]}
                ]
            },
            "load_balancers[0].ingress_cidrs: at most 4",
        ),
        (
            {
                "network": {
                    "subnet_ids": ["subnet-0a1b2c3f"],
                    "load_balancer_subnet_ids": ["subnet-0a1b2c3d", "subnet-0a1b2c3e"],
                }
            },
            "network.load_balancer_subnet_ids: not in shared mode",
        ),
    ],
)
def test_dedicated_only_fields_are_refused_in_shared_mode_naming_them(fields, named):
    with pytest.raises(InvalidSpec) as refused:
        spec.parse({"name": "a1", "mode": "shared", **fields})
    assert named in str(refused.value)
    # the same fields are a dedicated environment's to choose
    spec.parse({"name": "a1", **fields})


def test_shared_mode_keeps_what_is_the_environments_own():
    target_group = {"deregistration_delay_seconds": 7, "stickiness": {"type": "lb_cookie"}}
    lb = {"id": "web", "scheme": "internal", "ingress_cidrs": ["10.0.0.0/8"]}
    parsed = spec.normalise(
        spec.parse(
            {
                "name": "a1",
                "mode": "shared",
                "load_balancers": [{**lb, "target_group": target_group}],
            }
        )
    )
    assert parsed["load_balancers"][0]["scheme"] == "internal"
    assert parsed["load_balancers"][0]["target_group"]["deregistration_delay_seconds"] == 7
