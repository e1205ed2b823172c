"""`make emulator`: the embedded AWS as a local endpoint. The application is deployed; the AWS
CLI, boto3 or any SDK can drive it like an account (fake credentials, --endpoint-url)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

from embedded_aws.emulator import EmbeddedAWS
from embedded_aws.template import REPO_ROOT


def _instructions(endpoint: str, aws: EmbeddedAWS) -> str:
    provision, teardown = aws.provision_arn, aws.teardown_arn
    inputs = (
        (REPO_ROOT / "events" / "inputs").relative_to(Path.cwd())
        if Path.cwd() in (REPO_ROOT, *REPO_ROOT.parents)
        else REPO_ROOT / "events" / "inputs"
    )
    return f"""
fargate-env is deployed on a local AWS endpoint: {endpoint}
(stack {aws.stack_name}; simulated AWS time: a ~3 minute create takes seconds)

In another shell:
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION={aws.region}
  aws --endpoint-url {endpoint} stepfunctions start-execution \\
      --state-machine-arn {provision} \\
      --name demo-1 --input file://{inputs}/provision-nginx.json
  aws --endpoint-url {endpoint} stepfunctions describe-execution \\
      --execution-arn {provision.replace(":stateMachine:", ":execution:")}:demo-1
  aws --endpoint-url {endpoint} stepfunctions start-execution \\
      --state-machine-arn {teardown} \\
      --name demo-1-teardown --input file://{inputs}/teardown.json
  aws --endpoint-url {endpoint} dynamodb scan --table-name {aws.outputs["RegistryTableName"]}

From Python:
  boto3.client("stepfunctions", endpoint_url="{endpoint}", region_name="{aws.region}",
               aws_access_key_id="testing", aws_secret_access_key="testing")

Ctrl-C stops it.
"""


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m embedded_aws serve", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566, help="0 picks a free port")
    parser.add_argument("--ready-file", type=Path, help="write {endpoint, outputs} here once up")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    from moto.server import ThreadedMotoServer
    from werkzeug.serving import WSGIRequestHandler

    stopped = threading.Event()
    with EmbeddedAWS() as aws:
        clock = aws.clock
        original_handle = WSGIRequestHandler.handle

        def handle(self: Any) -> None:
            # A request from outside starts where the simulation has got to, not at zero.
            clock.set_thread_time(clock.latest())
            original_handle(self)

        WSGIRequestHandler.handle = handle  # type: ignore[method-assign]
        server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
        server.start()
        host, port = server.get_host_and_port()  # the bound port, also when 0 was asked
        endpoint = f"http://{host}:{port}"
        print(_instructions(endpoint, aws), flush=True)
        if args.ready_file:
            args.ready_file.write_text(json.dumps({"endpoint": endpoint, "outputs": aws.outputs}))
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        signal.signal(signal.SIGINT, lambda *_: stopped.set())
        stopped.wait()
        server.stop()
        WSGIRequestHandler.handle = original_handle  # type: ignore[method-assign]
    return 0


if __name__ == "__main__":
    sys.exit(run())
