"""Proof that the page answers, for every load balancer, by the strongest check the deployment
allows, and within the step's own time.

Per load balancer, always: its targets, as the load balancer sees them, are healthy (one per
task the service runs). Then:
- `http`: internet-facing and open to every IPv4 address: a real HTTP GET of its URL from the
  step itself (a Lambda outside any VPC, on an AWS public address nobody can list);
- `http-from-vpc`: internal, or open only to some CIDRs: the step cannot reach it (an internal
  name resolves to private addresses; a CIDR list leaves the step's address out), so the
  deployment's endpoint probe, a function attached to the VPC, GETs the load balancer's private
  addresses (its network interfaces), which admit the probe's security group;
- `target-health`: the same without a probe configured (template parameters ProbeVpcId and
  ProbeSubnetIds): the target health alone, and the result says so.

A protected load balancer (its spec's `authentication`) answers an anonymous GET itself: its
answer is then the proof, when it is the redirect to the configured identity provider's sign-in
(or the 401 of "deny"); the service behind the sign-in is proven by its healthy targets. A 2xx
from a protected listener fails the check at once (it does not authenticate).

The checks share one budget: the Lambda's remaining time less a margin, so a load balancer that
never answers fails the step with EndpointCheckFailed naming its URL and last answer, never with
Lambda's own timeout.
"""

from __future__ import annotations

import http.client
import json
import ssl
import urllib.error
import urllib.request
from typing import Any, Final

from fargate_env import authentication, clock, ingress, service
from fargate_env.aws import client
from fargate_env.errors import EndpointCheckFailed
from fargate_env.payloads import LoadBalancerSpec, Network, NormalisedSpec

HTTP: Final = "http"
HTTP_FROM_VPC: Final = "http-from-vpc"
TARGET_HEALTH: Final = "target-health"

#: The stand-in containers of the embedded AWS name their environment in this response header;
#: an answer that names another environment is a misroute (one gateway serves many). On AWS no
#: container sets it: the check then rests on the environment's own target group and its route.
ENVIRONMENT_HEADER: Final = "X-Fargate-Env-Environment"
SHARED_RESTRICTED_NOTE: Final = (
    "on a gateway, open only to its ingress_cidrs (its rule's source-ip condition), which "
    "neither the verify step nor the probe is among: its own target group's health only"
)
#: A protected environment answers, before sign-in, with the load balancer's own redirect to
#: its identity provider (or 401): that is the proof it answers, and that it is protected.
PROTECTED_NOTE: Final = (
    "protected: an anonymous request is sent to the identity provider's sign-in (or denied) by "
    "the load balancer; the service's own answer is behind the sign-in (its targets are healthy)"
)
REQUEST_TIMEOUT_SECONDS: Final = 5.0
PAUSE_SECONDS: Final = 5.0
MAX_ATTEMPTS: Final = 12
#: Left of the Lambda's time for the step to report (and Lambda to return) after the checks.
MARGIN_SECONDS: Final = 3.0
#: The probe function's timeout (template.yaml): an invocation never takes longer.
PROBE_TIMEOUT_SECONDS: Final = 10.0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report a redirect as the answer instead of following it off the load balancer."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _opener(url: str) -> urllib.request.OpenerDirector:
    handlers: list[Any] = [_NoRedirect()]
    if url.startswith("https://"):
        # The certificate names the user's domain, not the load balancer's DNS name (or, from the
        # probe, its private address): this is a liveness check of the listener, not of the
        # certificate.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        handlers.append(urllib.request.HTTPSHandler(context=context))
    return urllib.request.build_opener(*handlers)


def get(
    url: str, timeout: float = REQUEST_TIMEOUT_SECONDS, host: str | None = None
) -> dict[str, Any]:
    """One GET: {"status": code or None when nothing answered, "detail", "latency_ms"}. `host`:
    the Host header when `url` names an address rather than the load balancer's name."""
    headers = {"User-Agent": "fargate-env-verify/1"}
    if host:
        headers["Host"] = host
    request = urllib.request.Request(url, headers=headers)
    started = clock.monotonic()
    status: int | None
    environment = location = None
    try:
        with _opener(url).open(request, timeout=max(timeout, 0.1)) as response:
            response.read(65536)
            status, detail = int(response.status), "ok"
            environment = response.headers.get(ENVIRONMENT_HEADER)
    except urllib.error.HTTPError as exc:
        status, detail = int(exc.code), str(exc.reason)
        location = exc.headers.get("Location") if exc.headers else None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        status, detail = None, f"{type(exc).__name__}: {reason}"
    latency_ms = round((clock.monotonic() - started) * 1000, 1)
    answer = {"status": status, "detail": detail, "latency_ms": latency_ms}
    if location:
        answer["location"] = location
    return answer | ({"environment": environment} if environment else {})


def check_kind(lb: LoadBalancerSpec, vpc_id: str, shared: bool = False) -> str:
    if ingress.reachable_from_outside(lb["scheme"], lb["ingress_cidrs"]):
        return HTTP
    if shared and ingress.WORLD_IPV4 not in lb["ingress_cidrs"]:
        # The gateway's rule admits only the spec's addresses: the probe is not among them.
        return TARGET_HEALTH
    return HTTP_FROM_VPC if ingress.probe_function(vpc_id) else TARGET_HEALTH


def private_addresses(load_balancer_arn: str) -> list[str]:
    """The load balancer's private IPv4 addresses: those of its network interfaces, which ELB
    describes as "ELB <type>/<name>/<id>" (the end of its ARN)."""
    description = "ELB " + load_balancer_arn.split(":loadbalancer/", 1)[1]
    interfaces = client("ec2").describe_network_interfaces(
        Filters=[{"Name": "description", "Values": [description]}]
    )["NetworkInterfaces"]
    return sorted(str(item["PrivateIpAddress"]) for item in interfaces)


def _refuse_misroute(env: str, url: str, answer: dict[str, Any]) -> None:
    """An answer naming another environment came through someone else's route: fail now."""
    other = answer.get("environment")
    if other and other != env:
        raise EndpointCheckFailed(
            f"{url} answered as environment {other!r}, not {env!r}: its gateway routes this "
            "environment's host or port to another environment"
        )


def _from_the_probe(
    url: str, address: str | None, timeout: float, vpc_id: str, host: str | None = None
) -> dict[str, Any]:
    """One GET made by the probe inside the VPC, of `address` (the load balancer's private
    address) with the URL's host (or `host`) as Host header."""
    if address is None:
        return {"status": None, "detail": "the load balancer has no network interface yet"}
    request = {"url": url, "address": address, "timeout_seconds": timeout}
    response = client("lambda").invoke(
        FunctionName=ingress.probe_function(vpc_id),
        Payload=json.dumps(request | ({"host": host} if host else {})),
    )
    answer = json.loads(response["Payload"].read() or b"{}")
    if response.get("FunctionError"):
        return {"status": None, "detail": f"the probe failed: {answer.get('errorMessage')}"}
    return dict(answer)


def probe(
    url: str, address: str, timeout_seconds: float, host: str | None = None
) -> dict[str, Any]:
    """The probe function's work: GET `url` at `address` (no AWS call: no NAT needed)."""
    scheme, rest = url.split("://", 1)
    host_and_port, _, path = rest.partition("/")
    port = host_and_port.partition(":")[2]
    target = f"{scheme}://{address}{':' + port if port else ''}/{path}"
    timeout = min(float(timeout_seconds), REQUEST_TIMEOUT_SECONDS)
    return get(target, timeout=timeout, host=host or host_and_port)


def _verify(
    spec: NormalisedSpec,
    lb: LoadBalancerSpec,
    created: dict[str, Any],
    vpc_id: str,
    deadline: float,
) -> dict[str, Any]:
    gateway = created.get("gateway") or {}
    url, kind = created["url"], check_kind(lb, vpc_id, shared=bool(gateway))
    # On a gateway, the route is checked through the gateway's own name with the environment's
    # host name (a new DNS record may still be propagating; the wildcard may not be ours).
    check_url, host = gateway.get("check_url") or url, gateway.get("host")
    desired = int(spec["service"]["desired_count"])
    protected = authentication.expected_answer(lb)
    addresses = private_addresses(created["arn"]) if kind == HTTP_FROM_VPC else []
    attempt_seconds = PROBE_TIMEOUT_SECONDS if kind == HTTP_FROM_VPC else REQUEST_TIMEOUT_SECONDS
    last, attempts, healthy = "not tried: no time left", 0, 0
    while clock.monotonic() + attempt_seconds <= deadline:
        attempts += 1
        [healthy] = service.healthy_targets([created["target_group_arn"]]).values()
        answer: dict[str, Any] = {"status": None, "detail": ""}
        if healthy < desired:
            last = f"{healthy} of {desired} targets healthy"
        elif kind == TARGET_HEALTH:
            result = _result(lb, url, kind, attempts, healthy, answer)
            if gateway and ingress.WORLD_IPV4 not in lb["ingress_cidrs"]:
                result["note"] = SHARED_RESTRICTED_NOTE
            return result
        else:
            timeout = min(REQUEST_TIMEOUT_SECONDS, deadline - clock.monotonic())
            if kind == HTTP:
                answer = get(check_url, timeout, host=host)
            else:
                address = addresses[(attempts - 1) % len(addresses)] if addresses else None
                answer = _from_the_probe(check_url, address, timeout, vpc_id, host)
            _refuse_misroute(spec["name"], url, answer)
            status = answer.get("status")
            if protected is not None:
                if _signs_in(url, protected, answer):
                    return _result(lb, url, kind, attempts, healthy, answer) | {
                        "protected": PROTECTED_NOTE
                    }
            elif status is not None and 200 <= status < 400:
                return _result(lb, url, kind, attempts, healthy, answer)
            last = (
                f"HTTP {status} ({answer.get('detail')})" if status else str(answer.get("detail"))
            )
        if (
            attempts == MAX_ATTEMPTS
            or clock.monotonic() + PAUSE_SECONDS + attempt_seconds > deadline
        ):
            break  # no more attempts, or another after the pause would not fit in the time
        clock.sleep(PAUSE_SECONDS)
    raise EndpointCheckFailed(
        f"{url} (load balancer {lb['id']}, {kind} check) did not answer "
        f"{_wanted(protected)} within the step's "
        f"time ({attempts} attempt{'s' if attempts != 1 else ''}): {last}"
    )


def _wanted(protected: tuple[int, str | None] | None) -> str:
    if protected is None:
        return "2xx/3xx"
    status, sign_in = protected
    return f"{status} to {sign_in}" if sign_in else str(status)


def _signs_in(url: str, protected: tuple[int, str | None], answer: dict[str, Any]) -> bool:
    """A protected load balancer answers an anonymous request itself: a redirect to its
    identity provider's sign-in (or 401 when it denies). An answer from the service instead
    means it is not protected: fail at once, never call it ready."""
    status, sign_in = protected
    if answer.get("status") is not None and 200 <= answer["status"] < 300:
        raise EndpointCheckFailed(
            f"{url} answered HTTP {answer['status']} to a request without sign-in: the "
            "load balancer does not authenticate (its authentication is missing)"
        )
    if answer.get("status") != status:
        return False
    return sign_in is None or str(answer.get("location") or "").startswith(sign_in)


def _result(
    lb: LoadBalancerSpec, url: str, kind: str, attempts: int, healthy: int, answer: dict[str, Any]
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "id": lb["id"],
        "url": url,
        "check": kind,
        "status": answer.get("status"),
        "healthy_targets": healthy,
        "attempts": attempts,
    }
    for key in ("latency_ms", "environment"):
        if key in answer:
            result[key] = answer[key]
    if kind == TARGET_HEALTH:
        result["note"] = (
            "not reachable from the verify step (internal, or not open to 0.0.0.0/0) and no "
            "in-VPC probe deployed (ProbeVpcId, ProbeSubnetIds): target health only"
        )
    return result


def verify_all(
    spec: NormalisedSpec,
    load_balancers: list[dict[str, Any]],
    network: Network,
    remaining_seconds: float,
) -> dict[str, Any]:
    """Check every load balancer of the spec within `remaining_seconds` (the Lambda's time)."""
    deadline = clock.monotonic() + remaining_seconds - MARGIN_SECONDS
    created = {item["id"]: item for item in load_balancers}
    checks = [
        _verify(spec, lb, created[lb["id"]], network["vpc_id"], deadline)
        for lb in spec["load_balancers"]
    ]
    return {"checks": checks, "url": checks[0]["url"]}
