"""`make emulator`: a local endpoint on which the system AWS CLI drives the application."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import EVENTS, REPO_ROOT


@pytest.fixture
def endpoint(tmp_path: Path):
    """`python -m embedded_aws serve` (what `make emulator` runs) in its own process."""
    ready = tmp_path / "ready.json"
    server = subprocess.Popen(
        [sys.executable, "-m", "embedded_aws", "serve", "--port", "0", "--ready-file", str(ready)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert server.poll() is None, server.stdout.read()
        assert time.monotonic() < deadline, "the emulator did not come up in 60 s"
        time.sleep(0.1)
    yield json.loads(ready.read_text())
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


def aws_cli(endpoint: str, *args: str) -> dict:
    executable = shutil.which("aws")
    assert executable, "the system AWS CLI (aws) is needed for this test"
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_PAGER": "",
    }
    done = subprocess.run(
        [executable, "--endpoint-url", endpoint, "--output", "json", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else {}


def test_the_aws_cli_provisions_on_the_local_endpoint(endpoint):
    url, outputs = endpoint["endpoint"], endpoint["outputs"]
    started = aws_cli(
        url,
        "stepfunctions",
        "start-execution",
        "--state-machine-arn",
        outputs["ProvisionStateMachineArn"],
        "--name",
        "cli-demo",
        "--input",
        f"file://{EVENTS / 'inputs' / 'provision-nginx.json'}",
    )
    deadline = time.monotonic() + 90
    while True:
        described = aws_cli(
            url, "stepfunctions", "describe-execution", "--execution-arn", started["executionArn"]
        )
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            break
        time.sleep(0.5)

    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["url"] == "http://fenv-demo-web-1.us-east-1.elb.amazonaws.com/"
    assert output["verification"][0]["status"] == 200
