"""The load balancers' data plane: their DNS names resolve to loopback servers that answer as
the load balancer would (503 while no target is healthy, the redirect of a redirecting listener)
and, once a target is healthy, as the container behind it (nginx's welcome page for nginx).

Routing happens on the emulator's side: socket.getaddrinfo answers the `*.elb.amazonaws.com`
names it knows, and the private addresses of the load balancers' network interfaces, so the
verify step's real HTTP requests need no test-only branch. Who may connect is AWS's rule:
- an internal load balancer's name resolves to private addresses, reachable only from inside its
  VPC (here: the invocations of a function attached to that VPC, the endpoint probe);
- the listener's security groups must admit the caller on the port: its source address within
  a rule's CIDR, or, for a caller inside the VPC using a private address, its security group
  named by a rule. A caller outside any VPC (a step, a test, the CLI) comes from a public
  address (EXTERNAL_ADDRESS); traffic to an internet-facing load balancer's public addresses
  leaves the VPC, so it is never matched by a group rule.
A connection AWS would drop goes to a closed loopback port: refused at once, where AWS would let
it time out (the check's time budget is tested without the network).
"""

from __future__ import annotations

import datetime
import fnmatch
import http.server
import ipaddress
import socket
import ssl
import tempfile
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from embedded_aws.clock import UNTIMED_PREFIX
from embedded_aws.dataplane import forwarded_target_group

if TYPE_CHECKING:
    from embedded_aws.container_logs import ContainerLogs
    from embedded_aws.dataplane import DataPlane

#: The header a stand-in answer names its task's task definition in ("family:revision"), so an
#: update can be seen to serve its new revision (a real container says nothing of the kind).
REVISION_HEADER = "X-Fargate-Env-Task-Definition"
ELB_DNS_SUFFIXES = (".elb.amazonaws.com", ".elb.amazonaws.com.cn")
#: Where callers outside any VPC come from (TEST-NET-3: no real address is in a spec's CIDRs by
#: accident; 0.0.0.0/0 admits it, as it admits Lambda's own egress).
EXTERNAL_ADDRESS = "203.0.113.10"


@dataclass(frozen=True)
class Caller:
    """Who opens a connection: its source address, and, inside a VPC, the VPC and its groups."""

    address: str = EXTERNAL_ADDRESS
    vpc_id: str | None = None
    security_groups: tuple[str, ...] = ()


OUTSIDE = Caller()
#: The stand-in containers name their environment in this header (fargate_env.endpoint's
#: ENVIRONMENT_HEADER): the endpoint check tells an answer of another environment apart.
ENVIRONMENT_HEADER = "X-Fargate-Env-Environment"


def _matches(condition: dict[str, Any], host: str, source: str) -> bool:
    """Whether a rule condition holds for a request (the two fields fargate-env uses; any
    other field never matches here)."""
    field = condition.get("Field")
    if field == "host-header":
        values = (condition.get("HostHeaderConfig") or {}).get("Values") or condition.get("Values")
        name = host.split(":")[0].lower()
        return any(fnmatch.fnmatchcase(name, str(value).lower()) for value in values or [])
    if field == "source-ip":
        values = (condition.get("SourceIpConfig") or {}).get("Values") or []
        address = ipaddress.ip_address(source)
        return any(address in ipaddress.ip_network(str(cidr), strict=False) for cidr in values)
    return False


NGINX_WELCOME = """<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>
<p><em>Thank you for using nginx.</em></p>
</body>
</html>
"""


def _sign_in_url(action: dict[str, Any]) -> str:
    """The identity provider's authorization endpoint an authenticate action sends to (Cognito:
    its domain prefix is hosted at <prefix>.auth.<region>.amazoncognito.com)."""
    if action["Type"] == "authenticate-oidc":
        return str(action["AuthenticateOidcConfig"]["AuthorizationEndpoint"])
    config = action["AuthenticateCognitoConfig"]
    domain = str(config["UserPoolDomain"])
    if "." not in domain:
        domain = f"{domain}.auth.{str(config['UserPoolArn']).split(':')[3]}.amazoncognito.com"
    return f"https://{domain}/oauth2/authorize"


def _unauthenticated(
    actions: list[dict[str, Any]], dns_name: str, port: int
) -> tuple[int, dict[str, str], str] | None:
    """The load balancer's own answer to a request without a session cookie (no request here
    has one) when an authenticate action comes first: a 302 to the identity provider's
    authorization endpoint with the OAuth parameters, or 401 for OnUnauthenticatedRequest
    deny; None when it lets the request on (allow, or no authentication). ELBv2: "Authenticate
    users using an Application Load Balancer", authentication flow."""
    first = actions[0] if actions else {}
    if first.get("Type") not in ("authenticate-oidc", "authenticate-cognito"):
        return None
    config = first.get("AuthenticateOidcConfig") or first.get("AuthenticateCognitoConfig") or {}
    behaviour = str(config.get("OnUnauthenticatedRequest") or "authenticate")
    if behaviour == "allow":
        return None
    if behaviour == "deny":
        return 401, {}, "<html><body><h1>401 Authorization Required</h1></body></html>\n"
    callback = f"https://{dns_name.lower()}{'' if port == 443 else f':{port}'}/oauth2/idpresponse"
    query = urllib.parse.urlencode(
        {
            "client_id": config.get("ClientId") or config.get("UserPoolClientId") or "",
            "redirect_uri": callback,
            "response_type": "code",
            "scope": config.get("Scope") or "openid",
        }
    )
    return 302, {"Location": f"{_sign_in_url(first)}?{query}"}, ""


def _container_page(image: str) -> str:
    if "nginx" in image:
        return NGINX_WELCOME
    return (
        "<!DOCTYPE html><html><head><title>fargate-env stand-in</title></head><body>"
        f"<h1>{image}</h1><p>The embedded AWS answers for this container.</p></body></html>\n"
    )


def _self_signed_certificate(
    directory: Path, common_name: str = "fargate-env.example"
) -> tuple[Path, Path]:
    """A certificate for `common_name` (also its one subject alternative name, which ACM lists)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(common_name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class StandIns:
    """One loopback server per (load balancer, listener port), started when first resolved or
    when the emulator publishes it for the host (local_urls)."""

    def __init__(self, plane: DataPlane, logs: ContainerLogs | None = None) -> None:
        self.plane = plane
        self.logs = logs
        self._servers: dict[tuple[str, int], http.server.ThreadingHTTPServer] = {}
        self._lock = threading.Lock()
        self._answer_lock = threading.Lock()
        self._answered = 0
        self._tls: ssl.SSLContext | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="fargate-env-standin-")
        #: (status, host, simulated time) of every answer given, for the demo and the benchmark.
        self.answers: list[tuple[int, str, float]] = []
        #: Load balancer -> the source address of the last connection resolved to it.
        self.sources: dict[str, str] = {}
        #: Who the calling thread is (the emulator knows which function's handler it runs).
        self.caller: Callable[[], Caller] = lambda: OUTSIDE
        # A bound port that never listens: connections AWS would drop are refused here.
        self._unreachable = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._unreachable.bind(("127.0.0.1", 0))

    # ------------------------------------------------------------------ DNS
    def install(self, patch: Callable[[Any, str, Any], None]) -> None:
        """Load balancers' and their interfaces' names resolve to the stand-in servers."""
        original = socket.getaddrinfo

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(host, str) and (
                host.lower().endswith(ELB_DNS_SUFFIXES) or self._interface_owner(host)
            ):
                address = self.resolve(host.lower(), int(port or 80))
                return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", address)]
            return original(host, port, *args, **kwargs)

        patch(socket, "getaddrinfo", getaddrinfo)

    def close(self) -> None:
        """Stop every stand-in server."""
        with self._lock:
            servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            server.shutdown()
            server.server_close()
        self._unreachable.close()
        self._tmp.cleanup()

    def _interface_owner(self, address: str) -> Any:
        """The load balancer one of whose network interfaces has `address` (None: none)."""
        for sim in self.plane.load_balancers.values():
            if sim.deleted_at is None:
                for interface_id in sim.interface_ids:
                    interface = self.plane._ec2().enis.get(interface_id)
                    if interface is not None and interface.private_ip_address == address:
                        return self.plane._elbv2().load_balancers.get(sim.arn)
        return None

    def resolve(self, host: str, port: int) -> tuple[str, int]:
        """Where a connection to `host`:`port` goes, as of the caller's time: the loopback
        server of the load balancer's listener, or nowhere when AWS would drop it."""
        now = self.plane.clock.now()
        private = self._interface_owner(host)
        lb = private or next(
            (
                lb
                for lb in self.plane._elbv2().load_balancers.values()
                if lb.dns_name.lower() == host
            ),
            None,
        )
        # A load balancer routes traffic once it is active: "Load balancer state" in
        # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html
        if lb is None or self.plane.load_balancer_state(lb.arn, now) != "active":
            raise socket.gaierror(socket.EAI_NONAME, f"Name or service not known: {host}")
        # An internal load balancer's name resolves to its private addresses too.
        if not self._admits(lb, port, self.caller(), private or lb.scheme == "internal"):
            return ("127.0.0.1", self._unreachable.getsockname()[1])
        self.plane.request_times[lb.arn] = now
        # Where the request comes from, for the listener rules' source-ip conditions.
        self.sources[lb.arn] = self.caller().address if private else EXTERNAL_ADDRESS
        return ("127.0.0.1", self._server_for(lb.arn, port).server_address[1])

    def _admits(self, lb: Any, port: int, caller: Caller, private: bool) -> bool:
        """Whether AWS would let `caller` connect to the listener on `port`."""
        if self._listener(lb.arn, port) is None:
            return False
        if private and caller.vpc_id != lb.vpc_id:
            return False  # private addresses route only inside the VPC
        # Leaving the VPC for a public address, the caller's groups do not travel with it.
        groups = set(caller.security_groups) if private else set()
        source = ipaddress.ip_address(caller.address if private else EXTERNAL_ADDRESS)
        if not lb.security_groups:
            return True  # a network load balancer created without groups filters nothing
        ec2 = self.plane._ec2()
        for group_id in lb.security_groups:
            for rule in ec2.get_security_group_from_id(group_id).ingress_rules:
                if rule.ip_protocol not in ("tcp", "-1"):
                    continue
                if rule.ip_protocol == "tcp" and not rule.from_port <= port <= rule.to_port:
                    continue
                cidr = (rule.ip_range or {}).get("CidrIp")
                if cidr and source in ipaddress.ip_network(cidr):
                    return True
                if (rule.source_group or {}).get("GroupId") in groups:
                    return True
        return False

    # ------------------------------------------------------------------ servers
    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            cert, key = _self_signed_certificate(Path(self._tmp.name))
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self._tls = context
        return self._tls

    def _listener(self, lb_arn: str, port: int) -> Any:
        lb = self.plane._elbv2().load_balancers.get(lb_arn)
        if lb is None:
            return None
        return next((item for item in lb.listeners.values() if int(item.port) == port), None)

    def _server_for(self, lb_arn: str, port: int) -> http.server.ThreadingHTTPServer:
        with self._lock:
            server = self._servers.get((lb_arn, port))
            if server is not None:
                return server
            listener = self._listener(lb_arn, port)
            handler = self._handler(lb_arn, port)
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
            server.daemon_threads = True
            if listener is not None and listener.protocol in ("HTTPS", "TLS"):
                server.socket = self._tls_context().wrap_socket(server.socket, server_side=True)
            thread = threading.Thread(
                target=server.serve_forever, name=f"{UNTIMED_PREFIX}standin-{port}", daemon=True
            )
            thread.start()
            self._servers[(lb_arn, port)] = server
            return server

    def local_urls(self) -> dict[str, str]:
        """Each active load balancer listener's URL (no trailing slash, the port only when it is
        not the scheme's) -> the loopback address that answers for it from this machine."""
        now = self.plane.clock.latest()
        urls: dict[str, str] = {}
        for lb in list(self.plane._elbv2().load_balancers.values()):
            if self.plane.load_balancer_state(lb.arn, now) != "active":
                continue
            for listener in list(lb.listeners.values()):
                port = int(listener.port)
                scheme = "https" if listener.protocol in ("HTTPS", "TLS") else "http"
                default = 443 if scheme == "https" else 80
                address = self._server_for(lb.arn, port).server_address[1]
                shown = lb.dns_name.lower() + ("" if port == default else f":{port}")
                urls[f"{scheme}://{shown}"] = f"{scheme}://127.0.0.1:{address}"
        return urls

    def answer(
        self, lb_arn: str, port: int, now: float | None = None, host: str = ""
    ) -> tuple[int, dict[str, str], str]:
        """What the load balancer answers on `port` at `now` (default: when its name was last
        resolved)."""
        if now is None:
            now = self.plane.request_times.get(lb_arn, self.plane.clock.now())
        lb = self.plane._elbv2().load_balancers.get(lb_arn)
        listener = self._listener(lb_arn, port)
        if lb is None or listener is None:
            return 503, {}, "no listener on this port\n"
        actions = self._routed(listener, host, self.sources.get(lb_arn, EXTERNAL_ADDRESS))
        signed_out = _unauthenticated(actions, lb.dns_name, port)
        if signed_out is not None:
            return signed_out
        action = actions[-1] if actions else {}
        if action.get("Type") == "fixed-response":
            fixed = action.get("FixedResponseConfig") or {}
            return int(fixed.get("StatusCode", 200)), {}, str(fixed.get("MessageBody", ""))
        if action.get("Type") == "redirect":
            redirect = action.get("RedirectConfig", {})
            location = f"https://{lb.dns_name}:{redirect.get('Port', '443')}/"
            return 301, {"Location": location}, ""
        target_group = forwarded_target_group(action)
        serving = self.plane.serving(target_group, now) if target_group else []
        if not serving:
            body = "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>\n"
            return 503, {}, body
        # Round robin over the healthy targets, as ALB's default routing does.
        with self._answer_lock:
            self._answered += 1
            task = serving[self._answered % len(serving)]
        headers = {
            "Server": "nginx" if "nginx" in task.image else "fargate-env",
            REVISION_HEADER: task.task_definition_arn.split("/")[-1],
        }
        service = next(
            (
                sim
                for sim in self.plane.services.values()
                if any(group["arn"] == target_group for group in sim.target_groups)
            ),
            None,
        )
        if service is not None and service.environment:
            headers[ENVIRONMENT_HEADER] = service.environment
        return self.plane.faults.container_status or 200, headers, _container_page(task.image)

    @staticmethod
    def _routed(listener: Any, host: str, source: str) -> list[dict[str, Any]]:
        """The actions, in their Order, of the first rule (by priority) whose conditions all
        match the request, else the listener's default actions (ELBv2: "Listener rules", rule
        evaluation order; Action, Order: the lowest is performed first)."""
        rules = sorted(
            (rule for rule in listener.rules.values() if not getattr(rule, "is_default", False)),
            key=lambda rule: int(rule.priority),
        )
        chosen = listener.default_actions
        for rule in rules:
            if all(_matches(condition, host, source) for condition in rule.conditions):
                chosen = rule.actions
                break
        actions = [dict(action.data) for action in chosen or []]
        return sorted(actions, key=lambda action: int(action.get("Order") or 0))

    def log_request(
        self,
        lb_arn: str,
        port: int,
        moment: float,
        request: http.server.BaseHTTPRequestHandler,
        size: int,
    ) -> None:
        """The container's access-log line for a request it served (nginx's combined format)."""
        listener = self._listener(lb_arn, port)
        host = request.headers.get("Host", "")
        source = self.sources.get(lb_arn, EXTERNAL_ADDRESS)
        actions = self._routed(listener, host, source) if listener is not None else []
        target_group = forwarded_target_group(actions[-1]) if actions else None
        if target_group is None or self.logs is None:
            return
        when = datetime.datetime.fromtimestamp(self.plane.clock.epoch + moment, tz=datetime.UTC)
        line = (
            f"{request.client_address[0]} - - [{when.strftime('%d/%b/%Y:%H:%M:%S +0000')}] "
            f'"{request.requestline}" 200 {size} "-" "{request.headers.get("User-Agent", "-")}"'
        )
        self.logs.request(target_group, moment, line)

    def _handler(self, lb_arn: str, port: int) -> type[http.server.BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                host = self.headers.get("Host", "")
                if host.split(":")[0].lower().endswith(ELB_DNS_SUFFIXES):
                    moment = stand_in.plane.request_times.get(lb_arn, 0.0)
                else:  # from this machine, by the local address: as of now, the latest moment
                    moment = stand_in.plane.clock.latest()
                status, headers, body = stand_in.answer(lb_arn, port, moment, host)
                stand_in.answers.append((status, host, moment))
                payload = body.encode()
                if status == 200 and stand_in.logs is not None:
                    stand_in.log_request(lb_arn, port, moment, self, len(payload))
                self.send_response(status)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(payload)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet: the emulator reports what matters

        return Handler
