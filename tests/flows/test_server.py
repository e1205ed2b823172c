"""`make emulator` (python -m embedded_aws serve) as a user drives it from another process: the
README's every `fenv` and `aws` command as written, each sample's `fenv up` answering from the
host, and a busy port refused in one line. The aws CLI is the pinned one in the virtualenv."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import REPO_ROOT

BIN = Path(sys.executable).parent  # the virtualenv's: fenv and aws are installed there


def start_emulator(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], dict]:
    ready = tmp_path / "ready.json"
    server = subprocess.Popen(
        [sys.executable, "-m", "embedded_aws", "serve", "--ready-file", str(ready), *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not ready.exists():
        assert server.poll() is None, server.stdout.read() if server.stdout else ""
        assert time.monotonic() < deadline, "the emulator did not come up in 120 s"
        time.sleep(0.1)
    return server, json.loads(ready.read_text())


def stop(server: subprocess.Popen[str]) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@pytest.fixture
def emulator_endpoint(tmp_path: Path) -> Iterator[dict]:
    server, ready = start_emulator(tmp_path, "--port", "0")
    yield ready
    stop(server)


def user_environment(endpoint: str) -> dict[str, str]:
    """What the README's `export` line sets, with the emulator's real port."""
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_PAGER": "",
    }


def as_user(argv: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A command run from the repository in a user's shell environment."""
    return subprocess.run(
        argv,
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def readme_commands() -> list[str]:
    """Every `fenv` and `aws` command in the README's code blocks, in order, continuations
    joined."""
    text = (REPO_ROOT / "README.md").read_text()
    commands = []
    for block in re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE):
        joined = re.sub(r"\\\n\s*", "", block)
        for line in joined.splitlines():
            command = line.split("  #", 1)[0].strip()
            if command.startswith(("fenv ", "aws ")):
                commands.append(command)
    return commands


def test_the_readme_sets_the_environment_this_test_gives_its_commands():
    text = (REPO_ROOT / "README.md").read_text()
    export = next(line for line in text.splitlines() if line.startswith("export AWS_ENDPOINT_URL="))
    assigned = dict(item.split("=", 1) for item in export.removeprefix("export ").split())
    expected = user_environment("http://127.0.0.1:4566")
    assert {key: expected[key] for key in assigned} == assigned


#: A placeholder the README asks the reader to fill in: a stack output or the stack's name.
PLACEHOLDER = re.compile(r"<([A-Za-z]+)>")


def filled_in(command: str, outputs: dict[str, str], stack: str) -> str:
    """`command` with its placeholders replaced as a reader does: from the stack's outputs."""
    return PLACEHOLDER.sub(lambda m: stack if m[1] == "stack" else outputs[m[1]], command)


def run_all(commands: list[str], environment: dict[str, str]) -> None:
    for command in commands:
        done = as_user(["bash", "-c", command], environment)
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, command


def test_every_fenv_and_aws_command_in_the_readme_runs_as_written(emulator_endpoint):
    commands = readme_commands()
    assert len(commands) >= 15, commands
    assert any(c.startswith("aws events put-events") for c in commands)
    environment = user_environment(emulator_endpoint["endpoint"])
    # Commands with placeholders are the clean-up after `sam delete`: they come last, and run with
    # the values the README tells the reader to note (the stack's outputs).
    first_placeholder = next(
        (i for i, c in enumerate(commands) if PLACEHOLDER.search(c)), len(commands)
    )
    as_written, clean_up = commands[:first_placeholder], commands[first_placeholder:]
    assert all(PLACEHOLDER.search(c) for c in clean_up), clean_up

    run_all(as_written, environment)

    listed = subprocess.run(
        ["fenv", "list", "--all", "--output", "json"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    statuses = {item["name"]: item["status"] for item in json.loads(listed.stdout)}
    # every environment the README creates, it also tears down
    assert statuses == {"demo": "DELETED", "demo-https": "DELETED", "pr-1234": "DELETED"}

    outputs = dict(emulator_endpoint["outputs"])
    # The README's note: the aws CLI v1 sends SQS calls to AWS whatever AWS_ENDPOINT_URL says, so
    # on the emulator its SQS commands take --endpoint-url (and the queue as the emulator names it).
    queue_name = outputs["RequestsDeadLetterQueueUrl"].rsplit("/", 1)[1]
    endpoint = emulator_endpoint["endpoint"]
    outputs["RequestsDeadLetterQueueUrl"] = f"{endpoint}/123456789012/{queue_name}"
    clean_up = [
        f"{c} --endpoint-url {endpoint}" if c.startswith("aws sqs ") else c for c in clean_up
    ]
    run_all([filled_in(c, outputs, "fargate-env") for c in clean_up], environment)


def test_fenv_up_of_each_sample_answers_from_the_host(tmp_path):
    server, ready = start_emulator(tmp_path, "--port", "0")
    try:
        environment = user_environment(ready["endpoint"])
        for sample in sorted((REPO_ROOT / "events" / "inputs").glob("provision-*.json")):
            done = as_user(["fenv", "up", str(sample), "--output", "json"], environment)
            assert done.returncode == 0, f"{sample.name}\n{done.stdout}\n{done.stderr}"
            answered = json.loads(done.stdout)["answers"]
            assert [a["status"] for a in answered] == [200], sample.name
            local = answered[0]["local_url"]
            assert re.fullmatch(r"https?://127\.0\.0\.1:\d+", local), local
            # and from this test, as from a browser on the host
            with urllib.request.urlopen(local, timeout=10, context=_insecure()) as page:
                assert page.status == 200
                assert b"nginx" in page.read()
    finally:
        stop(server)
    output = server.stdout.read() if server.stdout else ""
    # one loopback address per listener: the https sample's two, the shared sample's gateway's
    # two (its own on port 80, the environment's on its port), one each for the others
    assert output.count("load balancer active:") == 8, output


def _insecure():  # the stand-in's certificate is self-signed
    import ssl

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def test_a_busy_port_is_one_line_and_exit_2():
    with socket.socket() as taken:  # another program listens there
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        second = subprocess.run(
            [sys.executable, "-m", "embedded_aws", "serve", "--port", str(port)],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert second.returncode == 2
    assert second.stderr.strip().splitlines() == [
        f"emulator: cannot listen on 127.0.0.1:{port}: Address already in use (another "
        'emulator? stop it, or pick a port: EMULATOR_ARGS="--port 0")'
    ]
    assert second.stdout == ""  # refused before anything was deployed
