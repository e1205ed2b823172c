"""The endpoint check: which check each load balancer gets, the probe's GET, and the time
budget: a load balancer that never answers fails the step naming its URL and last answer
before Lambda's own timeout would."""

from __future__ import annotations

from typing import Any

import pytest

from fargate_env import clock, endpoint, ingress, service
from fargate_env import spec as spec_model
from fargate_env.errors import EndpointCheckFailed
from tests.unit.handler_fixtures import serving

VPC = "vpc-0123456789abcdef0"


def lb(**fields: Any) -> dict[str, Any]:
    raw = {"name": "check", "load_balancers": [{"id": "web", **fields}]}
    return spec_model.normalise(spec_model.parse(raw))["load_balancers"][0]


@pytest.fixture
def probe_deployed(monkeypatch) -> None:
    monkeypatch.setenv(ingress.PROBE_FUNCTION_ENV, "fargate-env-EndpointProbeFunction-X")
    monkeypatch.setenv(ingress.PROBE_VPC_ENV, VPC)


@pytest.mark.parametrize(
    ("fields", "without_probe", "with_probe"),
    [
        ({}, "http", "http"),
        ({"ingress_cidrs": ["0.0.0.0/0", "::/0"]}, "http", "http"),
        ({"ingress_cidrs": ["192.0.2.0/24"]}, "target-health", "http-from-vpc"),
        ({"ingress_cidrs": ["::/0"]}, "target-health", "http-from-vpc"),
        ({"scheme": "internal"}, "target-health", "http-from-vpc"),
        (
            {"type": "network", "scheme": "internal", "ingress_cidrs": ["10.0.0.0/8"]},
            "target-health",
            "http-from-vpc",
        ),
    ],
)
def test_each_load_balancer_gets_the_strongest_check_the_deployment_allows(
    fields, without_probe, with_probe, monkeypatch
):
    assert endpoint.check_kind(lb(**fields), VPC) == without_probe
    monkeypatch.setenv(ingress.PROBE_FUNCTION_ENV, "probe")
    monkeypatch.setenv(ingress.PROBE_VPC_ENV, VPC)
    assert endpoint.check_kind(lb(**fields), VPC) == with_probe
    # A probe in another VPC cannot reach this one's load balancers
    assert endpoint.check_kind(lb(**fields), "vpc-0fedcba9876543210") == without_probe


@pytest.fixture
def virtual_time(monkeypatch) -> list[float]:
    """The library's clock, advanced only by its sleeps (and by the fakes below)."""
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    monkeypatch.setattr(clock, "sleep", sleep)
    monkeypatch.setattr(clock, "monotonic", lambda: now[0])
    return now


def two_load_balancers() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    spec = spec_model.normalise(
        spec_model.parse({"name": "check", "load_balancers": [{"id": "one"}, {"id": "two"}]})
    )
    arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012"
    created = [
        {
            "id": item["id"],
            "arn": f"{arn}:loadbalancer/app/{item['id']}/1",
            "target_group_arn": f"{arn}:targetgroup/{item['id']}/1",
            "url": f"http://fenv-check-{item['id']}-1.us-east-1.elb.amazonaws.com/",
        }
        for item in spec["load_balancers"]
    ]
    return spec, created


def test_load_balancers_that_never_answer_fail_within_the_functions_time(virtual_time, monkeypatch):
    # Given two load balancers with healthy targets whose every GET times out after 5 s: the
    # old worst case, 12 attempts 5 s apart, took ~115 s per URL, over the 90 s of the function
    monkeypatch.setattr(service, "healthy_targets", lambda arns: {"tg": 1})

    def timing_out(url: str, timeout: float = 5.0, host: str | None = None) -> dict[str, Any]:
        virtual_time[0] += timeout
        return {"status": None, "detail": "TimeoutError: timed out"}

    monkeypatch.setattr(endpoint, "get", timing_out)
    spec, created = two_load_balancers()

    # When the endpoints are verified with the function's 90 s
    with pytest.raises(EndpointCheckFailed) as raised:
        endpoint.verify_all(spec, created, {"vpc_id": VPC}, remaining_seconds=90)

    # Then the step fails in time, naming the URL, the check and the last answer
    assert virtual_time[0] <= 90 - endpoint.MARGIN_SECONDS
    message = str(raised.value)
    assert message.startswith(f"{created[0]['url']} (load balancer one, http check)")
    assert message.endswith("TimeoutError: timed out")


def test_what_is_left_of_the_time_after_the_first_load_balancer_bounds_the_second(
    virtual_time, monkeypatch
):
    monkeypatch.setattr(service, "healthy_targets", lambda arns: {"tg": 1})
    answers = {"one": 200}

    def slow_first(url: str, timeout: float = 5.0, host: str | None = None) -> dict[str, Any]:
        virtual_time[0] += 4 if "-one-" in url else timeout
        status = answers.get("one") if "-one-" in url else None
        return {"status": status, "detail": "ok" if status else "refused", "latency_ms": 1.0}

    monkeypatch.setattr(endpoint, "get", slow_first)
    spec, created = two_load_balancers()

    with pytest.raises(EndpointCheckFailed, match=f"^{created[1]['url']}"):
        endpoint.verify_all(spec, created, {"vpc_id": VPC}, remaining_seconds=30)
    assert virtual_time[0] <= 30 - endpoint.MARGIN_SECONDS


def test_without_a_probe_unhealthy_targets_fail_the_target_health_check(virtual_time, monkeypatch):
    # Given an internal load balancer, no probe, and none of its targets healthy
    monkeypatch.setattr(service, "healthy_targets", lambda arns: {"tg": 0})
    spec = spec_model.normalise(
        spec_model.parse({"name": "check", "load_balancers": [{"id": "int", "scheme": "internal"}]})
    )
    created = [
        {
            "id": "int",
            "arn": "arn:x:loadbalancer/app/int/1",
            "target_group_arn": "tg",
            "url": "http://int/",
        }
    ]

    # When / Then the check is no rubber stamp
    with pytest.raises(EndpointCheckFailed, match=r"target-health check.*0 of 1 targets healthy"):
        endpoint.verify_all(spec, created, {"vpc_id": VPC}, remaining_seconds=90)

    # And with its targets healthy, it passes and says which check ran
    monkeypatch.setattr(service, "healthy_targets", lambda arns: {"tg": 1})
    [check] = endpoint.verify_all(spec, created, {"vpc_id": VPC}, remaining_seconds=90)["checks"]
    assert (check["check"], check["status"], check["healthy_targets"]) == ("target-health", None, 1)
    assert "target health only" in check["note"]


def test_the_probe_gets_the_private_address_with_the_load_balancers_name():
    seen: list[dict[str, str]] = []
    name = "internal-fenv-demo-tcp-1.us-east-1.elb.amazonaws.com"

    with serving(200, seen) as url:
        port = url.rstrip("/").rsplit(":", 1)[1]
        answer = endpoint.probe(f"http://{name}:{port}/health", "127.0.0.1", 5)

    assert (answer["status"], answer["detail"]) == (200, "ok")
    assert seen == [{"path": "/health", "host": f"{name}:{port}"}]


def shared_environment() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    spec = spec_model.normalise(spec_model.parse({"name": "mine", "mode": "shared"}))
    arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012"
    created = {
        "id": "web",
        "arn": f"{arn}:loadbalancer/app/fenv-gw-abc123-e-1/1",
        "target_group_arn": f"{arn}:targetgroup/fenv-mine-web/1",
        "url": "http://fenv-gw-abc123-e-1.us-east-1.elb.amazonaws.com:10000/",
        "gateway": {"gateway_id": "e1", "slot": 0, "routing": "port"},
    }
    return spec, [created]


@pytest.mark.parametrize(("named", "passes"), [("mine", True), (None, True), ("theirs", False)])
def test_on_a_gateway_an_answer_naming_another_environment_fails_the_check(
    named, passes, virtual_time, monkeypatch
):
    # Given a shared environment's healthy targets, and its URL answering 200 as `named`
    monkeypatch.setattr(service, "healthy_targets", lambda arns: {"tg": 1})

    def answering(url: str, timeout: float = 5.0, host: str | None = None) -> dict[str, Any]:
        answer = {"status": 200, "detail": "ok", "latency_ms": 1.0}
        return answer | ({"environment": named} if named else {})

    monkeypatch.setattr(endpoint, "get", answering)
    spec, created = shared_environment()

    # Then an answer of this environment (or one that names none, as on AWS) passes; one naming
    # another environment of the gateway fails, naming both
    if passes:
        result = endpoint.verify_all(spec, created, {"vpc_id": VPC}, remaining_seconds=30)
        assert result["checks"][0].get("environment") == named
    else:
        with pytest.raises(EndpointCheckFailed, match="'theirs', not 'mine'"):
            endpoint.verify_all(spec, created, {"vpc_id": VPC}, remaining_seconds=30)
