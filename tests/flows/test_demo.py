"""`make demo` (python -m embedded_aws demo): the main job, and its rollback when a step fails."""

from __future__ import annotations

import subprocess
import sys

from tests.support import REPO_ROOT


def demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "embedded_aws", "demo", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_demo_provisions_verifies_and_leaves_nothing():
    run = demo()

    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert "URL: http://fenv-demo-web-1.us-east-1.elb.amazonaws.com/" in out
    assert "verify_endpoint: HTTP 200" in out
    assert "the stand-in container answered HTTP 200" in out
    assert "Resources created:" in out
    assert "ECS service" in out
    assert "== Teardown SUCCEEDED" in out
    assert out.rstrip().splitlines()[-2] == "0 resources left"


def test_a_fault_at_a_step_shows_the_rollback_and_fails_the_demo():
    run = demo("--fail-at", "create_listeners", "--fail-when", "after")

    assert run.returncode == 1, run.stdout + run.stderr
    out = run.stdout
    assert "== Provisioning FAILED" in out
    assert "failed step: Create the listeners" in out
    assert "rolled back:" in out
    assert "0 resources left" in out
