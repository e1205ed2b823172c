"""`make demo` (python -m embedded_aws demo): the main job, its rollback when a step fails, a
failed teardown, and the exit codes the README gives (through make too)."""

from __future__ import annotations

import subprocess
import sys

from tests.support import REPO_ROOT


def demo(*args: str) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "embedded_aws", "demo", *args)


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def shows(out: str, *texts: str) -> None:
    for text in texts:
        assert text in out, f"{text!r} not in:\n{out}"


def test_the_demo_provisions_verifies_and_leaves_nothing():
    run = demo()

    assert run.returncode == 0, run.stdout + run.stderr
    shows(
        run.stdout,
        "URL: http://fenv-demo-web-1.us-east-1.elb.amazonaws.com/",
        "verify_endpoint: HTTP 200",
        "the stand-in container answered HTTP 200",
        "Resources created:",
        "ECS service",
        "== Teardown SUCCEEDED",
    )
    assert run.stdout.rstrip().splitlines()[-2] == "0 resources left"


def test_the_app_sample_shows_the_sidecar_the_role_and_the_migration():
    run = demo("--sample", "app")

    assert run.returncode == 0, run.stdout + run.stderr
    shows(
        run.stdout,
        "Run the pre-traffic task",
        "pre-traffic task: exit code 0, before the service was created",
        "  | 3 migrations applied",
        "container                    app: public.ecr.aws/nginx/nginx:stable, waits for "
        "collector HEALTHY",
        "sidecar                    collector: public.ecr.aws/aws-observability/"
        "aws-otel-collector:v0.40.0, health check",
        "task role                    role/fargate-env-apps/demo-shop-app",
        "execution role               fenv-demo-shop-exec-us-east-1 (its own)",
        "execution_role   role/fargate-env/fargate-env/fenv-demo-shop-exec-us-east-1",
    )
    out = run.stdout
    assert out.index("Check the pre-traffic task") < out.index("Create the service")
    assert out.rstrip().splitlines()[-2] == "0 resources left"


def test_a_fault_at_a_step_shows_the_rollback_and_make_fails_with_the_demos_exit_code():
    made = run("make", "--no-print-directory", "demo", "DEMO_ARGS=--fail-at create_listeners")

    # the demo exits 1; make reports it ("Error 1") and exits 2, as the README says
    assert made.returncode == 2, made.stdout + made.stderr
    assert "demo] Error 1" in made.stderr
    shows(
        made.stdout,
        "== Provisioning FAILED",
        "failed step: Create the listeners  error: InjectedFault",
        "message: create_listeners: fault injected after its work",
        "resources: rolled back: ",
        "next: Fix the cause, then start the provisioning again.",
        "0 resources left",
    )


def test_a_failed_teardown_prints_its_error_and_cause_and_the_expiry_is_listed():
    run = demo("--sample", "https", "--fail-at", "delete_cluster")

    assert run.returncode == 2, run.stdout + run.stderr  # resources are left
    shows(
        run.stdout,
        "expiry schedule              fenv-demo-https-expiry (tears down at",
        "== Teardown FAILED",
        "failed step: Delete the cluster  error: InjectedFault",
        "message: delete_cluster: fault injected after its work",
        "next: Run the teardown again: it resumes from what is left.",
    )
    assert '{"' not in run.stdout  # the failure in words, not its JSON


def test_an_unknown_step_is_refused_with_the_valid_ones():
    run = demo("--fail-at", "bogus_step")

    assert run.returncode == 2
    message = run.stderr.strip()
    assert message.startswith("--fail-at: unknown step 'bogus_step'; valid steps: ")
    assert "create_service" in message
    assert "fault injected" not in run.stdout


def test_the_update_sample_updates_in_place_rolls_a_bad_image_back_and_leaves_nothing():
    run = demo("--sample", "update")

    assert run.returncode == 0, run.stdout + run.stderr
    shows(
        run.stdout,
        "== Update SUCCEEDED",
        "now serving fenv-demo:2 (was fenv-demo:1)",
        "== Update FAILED",
        "failed step: Check the rollout  error: DeploymentRolledBack",
        "resources: rolled back: the service runs the previous revision again",
        "== Teardown SUCCEEDED",
    )
    rollouts = [line for line in run.stdout.splitlines() if line.startswith("requests through")]
    assert len(rollouts) == 2
    assert all(line.endswith("; 0 failed") for line in rollouts), rollouts
    assert "from fenv-demo:1" in rollouts[0]
    assert "from fenv-demo:2" in rollouts[0]
    assert "fenv-demo:3" not in rollouts[1]
    assert run.stdout.rstrip().splitlines()[-2] == "0 resources left"


def test_the_shared_sample_shows_two_environments_on_one_gateway_outliving_each_other():
    run = demo("--sample", "shared")

    assert run.returncode == 0, run.stdout + run.stderr
    shows(
        run.stdout,
        "gateway e1 (made for it)",
        "gateway e1 (reused)",
        "HTTP 200 from environment 'pr-1'",
        "HTTP 200 from environment 'pr-2'",
        "== Teardown of 'pr-1' SUCCEEDED",
        "no answer (nothing listens on that port)",
        "gateway e1 empty",
        "== Gateways machine now (GatewayIdleMinutes 10): removed []",
        "== Gateways machine 11 minutes later: removed ['e1'] SUCCEEDED",
        "gateway resources left: 0",
    )
    meanwhile = [line for line in run.stdout.splitlines() if "meanwhile" in line]
    assert meanwhile, run.stdout
    assert all("HTTP 200 from environment 'pr-2'" in line for line in meanwhile), meanwhile
    assert run.stdout.rstrip().splitlines()[-1] == "0 resources left"
