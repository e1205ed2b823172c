"""`make emulator`: the embedded AWS as a local endpoint. The application is deployed; fenv, the
AWS CLI, boto3 or any SDK can drive it like an account (any credentials, an endpoint URL).

Besides the AWS APIs it serves what only an emulator can: the samples' prerequisites exist
(their certificate, secrets and file system, with the ids the samples name), each load balancer
listener answers from this machine on a loopback port (printed when the load balancer turns
active, and listed with the simulated time at /_fargate-env/info for fenv).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import socket
import sys
import threading
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from embedded_aws import prerequisites
from embedded_aws.clock import UNTIMED_PREFIX
from embedded_aws.emulator import EmbeddedAWS
from embedded_aws.template import REPO_ROOT

INFO_PATH = "/_fargate-env/info"  # fenv_cli.account.EMULATOR_INFO_PATH


def _relative(path: Path) -> Path:
    return path.relative_to(Path.cwd()) if Path.cwd() in (REPO_ROOT, *REPO_ROOT.parents) else path


def _instructions(endpoint: str, aws: EmbeddedAWS, prepared: list[str]) -> str:
    inputs = _relative(REPO_ROOT / "events" / "inputs")
    entries = _relative(REPO_ROOT / "events" / "eventbridge" / "create-requested.entries.json")
    provision = aws.provision_arn
    ready = (
        f"The samples' certificate, secrets and file system exist ({', '.join(prepared)} run as "
        "written)."
        if prepared
        else "No prerequisites were created (--no-prerequisites)."
    )
    return f"""
fargate-env is deployed on a local AWS endpoint: {endpoint}
(stack {aws.stack_name}; simulated AWS time: a ~3 minute create takes seconds)
{ready}

In another shell:
  export AWS_ENDPOINT_URL={endpoint} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \\
         AWS_DEFAULT_REGION={aws.region}
  fenv up {inputs}/provision-nginx.json       # follows it, prints the URL and where it answers
  fenv status demo
  fenv down demo
or with the AWS CLI:
  aws stepfunctions start-execution --state-machine-arn {provision} \\
      --name demo-1 --input file://{inputs}/provision-nginx.json
  aws events put-events --entries file://{entries}

Load balancers answer from this machine on the loopback ports printed below as they turn active.
Ctrl-C stops it.
"""


def _with_info(app: Callable[..., Any], aws: EmbeddedAWS) -> Callable[..., Any]:
    """The moto app, plus INFO_PATH: {"now": simulated Unix time, "urls": {url: local url}}."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != INFO_PATH:
            answer: Iterable[bytes] = app(environ, start_response)
            return answer
        body = json.dumps(
            {"now": aws.clock.epoch + aws.clock.latest(), "urls": aws.standins.local_urls()}
        ).encode()
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]

    return wsgi


def _announce_listeners(aws: EmbeddedAWS, stopped: threading.Event) -> None:
    """Print each listener's local address once, when its load balancer has turned active."""
    shown: set[str] = set()
    while not stopped.wait(0.5):
        try:
            urls = aws.standins.local_urls()
        except Exception:  # the backend changes under us: look again next time
            continue
        for url, local in sorted(urls.items()):
            if url not in shown:
                shown.add(url)
                print(f"load balancer active: {url}/ answers here at {local}/", flush=True)


def _cannot_listen(host: str, port: int) -> str | None:
    """Why `host`:`port` cannot be listened on (None: it can), probed as werkzeug binds it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m embedded_aws serve", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=4566, help="port (0 picks a free one)")
    parser.add_argument("--ready-file", type=Path, help="write {endpoint, outputs} here once up")
    parser.add_argument(
        "--no-prerequisites",
        dest="prerequisites",
        action="store_false",
        help="do not create the samples' certificate, secrets and file system",
    )
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    # One line per request would bury what the emulator prints (and fill a pipe reading it).
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import WSGIRequestHandler, make_server

    busy = _cannot_listen(args.host, args.port)
    if busy is not None:  # before the deploy: a busy port is one line at once, not a hang
        print(
            f"emulator: cannot listen on {args.host}:{args.port}: {busy} "
            '(another emulator? stop it, or pick a port: EMULATOR_ARGS="--port 0")',
            file=sys.stderr,
        )
        return 2
    stopped = threading.Event()
    with EmbeddedAWS() as aws:
        prepared = prerequisites.provide_for_samples(aws) if args.prerequisites else []
        app = _with_info(DomainDispatcherApplication(create_backend_app), aws)
        server = make_server(
            args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler
        )
        clock = aws.clock
        original_handle = WSGIRequestHandler.handle

        def handle(self: Any) -> None:
            # A request from outside starts where the simulation has got to, not at zero.
            clock.set_thread_time(clock.latest())
            original_handle(self)

        # The stdlib's handler, patched for this server's life (restored below).
        WSGIRequestHandler.handle = handle  # type: ignore[method-assign]
        threads = [
            threading.Thread(target=server.serve_forever, name=f"{UNTIMED_PREFIX}endpoint"),
            threading.Thread(
                target=_announce_listeners, args=(aws, stopped), name=f"{UNTIMED_PREFIX}announce"
            ),
        ]
        for thread in threads:
            thread.daemon = True
            thread.start()
        host, port = server.socket.getsockname()[:2]
        endpoint = f"http://{host}:{port}"
        print(_instructions(endpoint, aws, prepared), flush=True)
        if args.ready_file:
            args.ready_file.write_text(json.dumps({"endpoint": endpoint, "outputs": aws.outputs}))
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        signal.signal(signal.SIGINT, lambda *_: stopped.set())
        stopped.wait()
        server.shutdown()
        # The stdlib's handler back as it was.
        WSGIRequestHandler.handle = original_handle  # type: ignore[method-assign]
    return 0


if __name__ == "__main__":
    sys.exit(run())
