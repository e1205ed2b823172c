"""`make demo`: the main job on the embedded AWS. Provision a sample environment, show that it
answers, list what was created, tear it down, and prove nothing is left."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from collections import Counter
from typing import Any

from embedded_aws import demo_shared, prerequisites
from embedded_aws.emulator import EmbeddedAWS, Execution
from embedded_aws.faults import Faults, StepFault
from embedded_aws.standin import REVISION_HEADER
from embedded_aws.template import REPO_ROOT
from fargate_env import failures, naming
from fenv_cli.progress import follow

SAMPLES = {
    "nginx": "provision-nginx.json",
    "nlb": "provision-nlb.json",
    "https": "provision-https.json",
    "secrets-volumes": "provision-secrets-volumes.json",
    "app": "provision-app.json",
    # The nginx sample, then updated in place: a new image, then an image no registry has.
    "update": "provision-nginx.json",
    "shared": "provision-shared.json",
}
#: The images the update sample rolls out: the first answers, the second cannot be pulled.
UPDATE_IMAGE = "public.ecr.aws/nginx/nginx:1.27"
MISSING_IMAGE = "public.ecr.aws/nginx/nginx:no-such-tag"
INPUTS = REPO_ROOT / "events" / "inputs"


def load_sample(name: str) -> dict[str, Any]:
    return dict(json.loads((INPUTS / SAMPLES[name]).read_text())["spec"])


def _say(text: str = "") -> None:
    print(text, flush=True)


def step_names() -> list[str]:
    """The steps a fault can be injected at: one per function directory."""
    return sorted(p.name for p in (REPO_ROOT / "functions").iterdir() if (p / "app.py").exists())


def resource_rows(output: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, id) rows of what a provisioning created: its recorded resources and its expiry."""
    resources = output["resources"]
    rows: list[tuple[str, str]] = []
    network = resources.get("network") or {}
    if network:
        rows.append(
            ("network (used)", f"{network['vpc_id']}, {len(network['subnet_ids'])} subnets")
        )
    groups = resources.get("security_groups") or {}
    for lb_id, group in (groups.get("load_balancers") or {}).items():
        rows.append(("security group", f"{group} (load balancer {lb_id})"))
    if groups.get("tasks"):
        rows.append(("security group", f"{groups['tasks']} (tasks)"))
    if resources.get("log_group"):
        rows.append(("log group", resources["log_group"]))
    if resources.get("execution_role"):
        rows.append(("execution role", f"{resources['execution_role']['name']} (its own)"))
    if resources.get("task_definition"):
        rows.append(("task definition", resources["task_definition"]["arn"].split("/")[-1]))
    for lb in resources.get("load_balancers") or []:
        rows.append(("target group", lb.get("target_group_name", lb.get("target_group_arn", ""))))
        rows.append((f"load balancer ({lb['type']})", f"{lb['name']}  {lb['dns_name']}"))
        for arn in lb.get("listener_arns", []):
            rows.append(("listener", arn.split("/")[-1]))
    if resources.get("cluster"):
        rows.append(("ECS cluster", resources["cluster"]["name"]))
    if resources.get("service"):
        rows.append(("ECS service", resources["service"]["name"]))
    if output.get("expires_at"):
        schedule = naming.schedule_name(output["name"])
        rows.append(("expiry schedule", f"{schedule} (tears down at {output['expires_at']})"))
    return rows


def container_rows(definition: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, description) of each container of a task definition (ECS's shape): the main one
    first (the load balancers' target), then the sidecars; who waits for whom."""
    rows = []
    for index, container in enumerate(definition["containerDefinitions"]):
        kind = "container" if index == 0 else "  sidecar"
        notes = [container["image"]]
        if index and not container.get("essential", True):
            notes.append("not essential")
        if container.get("healthCheck"):
            notes.append("health check")
        notes += [
            f"waits for {d['containerName']} {d['condition']}"
            for d in container.get("dependsOn", [])
        ]
        rows.append((kind, f"{container['name']}: {', '.join(notes)}"))
    if definition.get("taskRoleArn"):
        rows.append(("task role", definition["taskRoleArn"].split(":", 5)[-1]))
    return rows


def pre_traffic_lines(result: dict[str, Any] | None) -> list[str]:
    """What the demo says of the command before traffic (nothing when there was none)."""
    if not result:
        return []
    lines = [f"pre-traffic task: exit code {result['exit_code']}, before the service was created"]
    return [*lines, *(f"  | {line}" for line in result["log_tail"])]


def _say_failure(execution: Execution) -> None:
    """A failed execution's failure, as its one shape says it (failures.py): which step, the
    error, the message, what happened to the resources and what to do next - never its JSON."""
    cause = execution.cause_json()
    _say(f"failed step: {cause.get('failed_step')}  error: {execution.error}")
    _say(f"message: {cause.get('message') or failures.message_of(execution.cause)}")
    for key in ("resources", "next"):
        if cause.get(key):
            _say(f"{key}: {cause[key]}")


def _served(aws: EmbeddedAWS, lb_arn: str, start: float, end: float) -> Counter[tuple[int, str]]:
    """(status, revision) of a request through the load balancer each simulated second."""
    answers: Counter[tuple[int, str]] = Counter()
    for moment in range(math.ceil(start), math.floor(end) + 1):
        status, headers, _ = aws.standins.answer(lb_arn, 80, float(moment))
        answers[status, headers.get(REVISION_HEADER, "-")] += 1
    return answers


def _say_answers(answers: Counter[tuple[int, str]]) -> None:
    failed = sum(count for (status, _), count in answers.items() if status >= 500)
    served = ", ".join(
        f"{count} x HTTP {status} from {revision}" for (status, revision), count in answers.items()
    )
    _say(f"requests through the rollout (one per simulated second): {served}; {failed} failed")


def update_in_place(aws: EmbeddedAWS, spec: dict[str, Any], lb_arn: str) -> bool:
    """The update sample: a new image rolled out with no failed request, then an image that
    cannot be pulled, rolled back (the environment stays READY on the previous revision)."""
    env = spec["name"]
    ok = True
    for image, title in (
        (UPDATE_IMAGE, "a new image"),
        (MISSING_IMAGE, "an image no registry has"),
    ):
        _say()
        _say(f"== Updating environment '{env}' in place: {title} ({image})")
        started = aws.clock.now()
        arn = aws.start_execution(
            aws.update_arn,
            {"spec": {**spec, "container": {"image": image}}},
            f"update-{env}-{image[-6:]}",
        )
        follow(aws.client("stepfunctions"), arn, _say)
        update = aws.wait(arn)
        _say(f"== Update {update.status} in {update.duration:.1f} s (simulated)")
        if update.status == "SUCCEEDED":
            output = update.output
            _say(f"now serving {output['revision']} (was {output['previous_revision']})")
        else:
            _say_failure(update)
        aws.clock.advance(30.0)  # the rollback's new tasks serve
        _say_answers(_served(aws, lb_arn, started, aws.clock.now()))
        ok = ok and update.status == ("SUCCEEDED" if image == UPDATE_IMAGE else "FAILED")
    return ok


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m embedded_aws demo", description=__doc__)
    parser.add_argument("--sample", choices=sorted(SAMPLES), default="nginx")
    parser.add_argument(
        "--fail-at",
        metavar="STEP",
        help="inject a fault at this step: a function name (e.g. create_service, delete_cluster)",
    )
    parser.add_argument(
        "--fail-when",
        choices=["before", "after"],
        default="after",
        help="fail before the step's work, or after it (the resource exists)",
    )
    parser.add_argument("--keep", action="store_true", help="do not tear down at the end")
    args = parser.parse_args(argv)
    if args.fail_at and args.fail_at not in step_names():
        print(
            f"--fail-at: unknown step {args.fail_at!r}; valid steps: {', '.join(step_names())}",
            file=sys.stderr,
        )
        return 2
    warnings.filterwarnings("ignore")

    faults = Faults(missing_images=frozenset({MISSING_IMAGE}))
    if args.fail_at:
        faults.steps.append(StepFault(step=args.fail_at, when=args.fail_when))
    spec = load_sample(args.sample)
    env = spec["name"]
    wall = time.monotonic()
    sample_path = INPUTS.relative_to(REPO_ROOT) / SAMPLES[args.sample]
    _say(f"fargate-env demo: sample '{args.sample}' ({sample_path})")
    # The shared sample's deployment removes a gateway idle for 10 minutes (GatewayIdleMinutes).
    parameters = {"GatewayIdleMinutes": "10"} if args.sample == "shared" else None
    with EmbeddedAWS(faults=faults, parameters=parameters) as aws:
        functions = len(aws.catalog)
        machines = len([key for key in aws.outputs if key.endswith("StateMachineArn")])
        _say(
            f"embedded AWS up: template.yaml deployed ({functions} functions, {machines} state "
            f"machines), {time.monotonic() - wall:.1f} s; times below are simulated AWS seconds"
        )
        _say()
        if args.sample == "shared":
            ok, left = demo_shared.run(aws, _say)
            _say(f"{len(left)} resources left" + "".join(f"\n  still there: {i}" for i in left))
            return 0 if ok and not left else 2
        # What the sample refers to (certificate, secrets, file system) a real account has.
        prerequisites.provide(aws, spec)
        _say(
            f"== Provisioning environment '{env}'"
            + (f"  (fault injected {args.fail_when} {args.fail_at})" if args.fail_at else "")
        )
        arn = aws.start_execution(aws.provision_arn, {"spec": spec}, f"provision-{env}")
        follow(aws.client("stepfunctions"), arn, _say)
        provision = aws.wait(arn)
        _say(f"== Provisioning {provision.status} in {provision.duration:.1f} s (simulated)")
        ok = provision.status == "SUCCEEDED"
        if ok:
            output = provision.output
            _say(f"URL: {output['url']}")
            for check in output["verification"]:
                _say(
                    f"verify_endpoint: HTTP {check['status']} from {check['url']} "
                    f"(attempt {check['attempts']})"
                )
            page = next((status for status, _, _ in aws.standins.answers if status == 200), None)
            _say(f"the stand-in container answered HTTP {page}" if page else "no page was served")
            for line in pre_traffic_lines(output.get("pre_traffic_task")):
                _say(line)
            _say()
            _say("Resources created:")
            rows = resource_rows(output)
            arn = output["resources"]["task_definition"]["arn"]
            described = aws.client("ecs").describe_task_definition(taskDefinition=arn)
            rows += container_rows(described["taskDefinition"])
            width = max(len(kind) for kind, _ in rows)
            for kind, ident in rows:
                _say(f"  {kind:<{width}}  {ident}")
            if args.sample == "update":
                ok = update_in_place(aws, spec, output["resources"]["load_balancers"][0]["arn"])
        else:
            _say_failure(provision)
        if ok and not args.keep:
            _say()
            _say(f"== Tearing down environment '{env}'")
            arn = aws.start_execution(aws.teardown_arn, {"name": env}, f"teardown-{env}")
            follow(aws.client("stepfunctions"), arn, _say)
            teardown = aws.wait(arn)
            _say(f"== Teardown {teardown.status} in {teardown.duration:.1f} s (simulated)")
            if teardown.status == "SUCCEEDED":
                deleted = teardown.output["deleted"]
                _say(f"Deleted {teardown.output['deleted_count']} resources:")
                for kind, items in deleted.items():
                    for item in items:
                        # ARNs shown from their resource part: service/fenv-demo/fenv-demo
                        _say(f"  {kind:<16} {item.split(':', 5)[-1]}")
            else:
                _say_failure(teardown)
            ok = teardown.status == "SUCCEEDED"
        _say()
        left = aws.remaining(env)
        _say(
            f"Listing what remains of '{env}' in ECS, ELBv2, EC2, CloudWatch Logs, Scheduler "
            "and IAM..."
        )
        for item in left:
            _say(f"  still there: {item}")
        if not args.keep:
            _say(f"{len(left)} resources left")
        _say(
            f"state transitions: {aws.counters.transitions}, Lambda invocations: "
            f"{sum(aws.runner.invocations.values())}, AWS API calls by steps: "
            f"{sum(aws.counters.api_calls.values())}; wall time {time.monotonic() - wall:.1f} s"
        )
        if left and not args.keep:
            return 2
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(run())
