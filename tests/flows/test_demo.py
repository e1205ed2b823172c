"""`make demo` (python -m embedded_aws demo): the main job, its rollback when a step fails, a
failed teardown, and the exit codes the README gives (through make too)."""

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


def test_a_fault_at_a_step_shows_the_rollback_and_make_fails_with_the_demos_exit_code():
    run = subprocess.run(
        ["make", "--no-print-directory", "demo", "DEMO_ARGS=--fail-at create_listeners"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    # the demo exits 1; make reports it ("Error 1") and exits 2, as the README says
    assert run.returncode == 2, run.stdout + run.stderr
    assert "demo] Error 1" in run.stderr
    out = run.stdout
    assert "== Provisioning FAILED" in out
    assert "failed step: Create the listeners" in out
    assert "rolled back:" in out
    assert "0 resources left" in out


def test_a_failed_teardown_prints_its_error_and_cause_and_the_expiry_is_listed():
    run = demo("--sample", "https", "--fail-at", "delete_cluster")

    assert run.returncode == 2, run.stdout + run.stderr  # resources are left
    out = run.stdout
    assert "expiry schedule              fenv-demo-https-expiry (tears down at" in out
    assert "== Teardown FAILED" in out
    assert "error: InjectedFault" in out
    assert "failed step: Delete the cluster" in out
    assert "cause: delete_cluster: fault injected after its work" in out


def test_an_unknown_step_is_refused_with_the_valid_ones():
    run = demo("--fail-at", "bogus_step")

    assert run.returncode == 2
    message = run.stderr.strip()
    assert message.startswith("--fail-at: unknown step 'bogus_step'; valid steps: ")
    assert "create_service" in message
    assert "fault injected" not in run.stdout
