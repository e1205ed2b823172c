"""`make demo DEMO_ARGS="--sample shared"`: two environments in shared mode on one gateway. The
first makes the gateway, the second joins it; both answer as themselves; one is torn down while
the other keeps answering; then both are gone, and the gateway meets its fate per the
deployment's GatewayIdleMinutes (the demo deploys 10): the gateways machine keeps it while it
has been idle less than that, and removes it (load balancer, listeners, security group) after."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from embedded_aws.emulator import EmbeddedAWS
from fargate_env import endpoint, naming

Say = Callable[[str], None]


def _gateways(aws: EmbeddedAWS) -> list[dict[str, Any]]:
    """The load balancers tagged as gateways of this deployment."""
    elbv2 = aws.client("elbv2")
    found = []
    for lb in elbv2.describe_load_balancers()["LoadBalancers"]:
        arn = lb["LoadBalancerArn"]
        tags = elbv2.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]
        gateway = naming.from_key_value_list(tags).get(naming.GATEWAY_TAG)
        if gateway:
            listeners = elbv2.describe_listeners(LoadBalancerArn=arn)["Listeners"]
            found.append({"id": gateway, "lb": lb, "listeners": listeners})
    return found


def _provision(aws: EmbeddedAWS, name: str, say: Say) -> dict[str, Any] | None:
    before = {gateway["id"] for gateway in _gateways(aws)}
    execution = aws.provision({"name": name, "mode": "shared"})
    if execution.status != "SUCCEEDED":
        say(f"== Provisioning '{name}' {execution.status}: {execution.cause}")
        return None
    output = execution.output
    lb = output["resources"]["load_balancers"][0]
    gateway = lb["gateway"]["gateway_id"]
    fate = "made for it" if gateway not in before else "reused"
    say(
        f"== '{name}' ready in {execution.duration:.1f} s (simulated): gateway {gateway} "
        f"({fate}), URL {output['url']}"
    )
    say(f"   its own: target group {lb['target_group_name']}, listener on its port, service")
    return dict(output)


def _gateway_fate(aws: EmbeddedAWS, say: Say) -> list[str]:
    """Run the gateways machine (as its schedule would) now and once the idle time has passed:
    what of the gateways is left that the setting says should be gone."""
    idle = aws.function_environment().get("GATEWAY_IDLE_MINUTES", "keep")
    made = _gateways(aws)
    for gateway in made:
        lb = gateway["lb"]
        say(
            f"gateway {gateway['id']} empty: {lb['LoadBalancerName']}, "
            f"{len(gateway['listeners'])} listener (its own, port 80: 404 for unknown ports)"
        )
    now = aws.maintain_gateways()
    removed = now.output["plan"]["remove"]
    say(f"== Gateways machine now (GatewayIdleMinutes {idle}): removed {removed}")
    if idle == "keep":
        say("   gateways kept: the deployment keeps empty gateways")
        return []
    aws.clock.advance((int(idle) + 1) * 60)
    later = aws.maintain_gateways()
    say(
        f"== Gateways machine {int(idle) + 1} minutes later: removed "
        f"{later.output['plan']['remove']} {later.status}"
    )
    arns = {gateway["lb"]["LoadBalancerArn"] for gateway in made}
    groups = {group for gateway in made for group in gateway["lb"].get("SecurityGroups", [])}
    balancers = aws.client("elbv2").describe_load_balancers()["LoadBalancers"]
    left = [lb["LoadBalancerArn"] for lb in balancers if lb["LoadBalancerArn"] in arns]
    existing = aws.client("ec2").describe_security_groups()["SecurityGroups"]
    left += [group["GroupId"] for group in existing if group["GroupId"] in groups]
    say(f"   gateway resources left: {len(left)}")
    return left


def _answer(url: str) -> str:
    got = endpoint.get(url, timeout=5)
    if got["status"] is None:
        return "no answer (nothing listens on that port)"
    return f"HTTP {got['status']} from environment {got.get('environment', '?')!r}"


def run(aws: EmbeddedAWS, say: Say) -> tuple[bool, list[str]]:
    """The shared-mode demo on a deployed embedded AWS: (success, what is left of the two)."""
    names = ["pr-1", "pr-2"]
    outputs = [_provision(aws, name, say) for name in names]
    if not all(outputs):
        return False, [item for name in names for item in aws.remaining(name)]
    urls = [str(output["url"]) for output in outputs if output]
    say("")
    for url in urls:
        say(f"GET {url} -> {_answer(url)}")
    say("")
    say(f"== Tearing down '{names[0]}' while '{names[1]}' is asked again and again")
    arn = aws.start_execution(aws.teardown_arn, {"name": names[0]}, f"teardown-{names[0]}")
    answers: dict[str, int] = {}
    while aws.client("stepfunctions").describe_execution(executionArn=arn)["status"] == "RUNNING":
        seen = _answer(urls[1])
        answers[seen] = answers.get(seen, 0) + 1
        time.sleep(0.05)
    first = aws.wait(arn)
    say(f"== Teardown of '{names[0]}' {first.status} in {first.duration:.1f} s (simulated)")
    for seen, count in answers.items():
        say(f"   meanwhile {urls[1]}: {count} x {seen}")
    say(f"GET {urls[0]} -> {_answer(urls[0])}")
    say(f"GET {urls[1]} -> {_answer(urls[1])}")
    second = aws.teardown(names[1])
    say(f"== Teardown of '{names[1]}' {second.status} in {second.duration:.1f} s (simulated)")
    say("")
    gateways_left = _gateway_fate(aws, say)
    left = [item for name in names for item in aws.remaining(name)] + gateways_left
    ok = first.status == second.status == "SUCCEEDED" and all(
        seen.startswith("HTTP 200") for seen in answers
    )
    return ok, left
