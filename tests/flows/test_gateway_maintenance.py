"""The gateways machine on the embedded AWS (shared mode's maintenance, which its schedule
starts): gateways kept warm before environments need them (GatewayWarmCount), empty gateways
removed after GatewayIdleMinutes, never one an environment is on, never below the warm count."""

from __future__ import annotations

from typing import Any

from embedded_aws.emulator import EmbeddedAWS
from embedded_aws.faults import Faults, Hold, StepFault
from fargate_env import endpoint
from tests.flows.conftest import deployment_settings, gateway_items

MINUTE = 60.0


def shared(name: str) -> dict[str, Any]:
    return {"name": name, "mode": "shared"}


def gateway_of(aws: EmbeddedAWS, env: str) -> dict[str, Any]:
    return next(item for item in gateway_items(aws) if env in item["members"].values())


def gateway_resources_left(aws: EmbeddedAWS, gateway: dict[str, Any]) -> list[str]:
    """What of `gateway` still exists in AWS: its load balancer, its security group."""
    resources = gateway.get("resources") or {}
    left = []
    elbv2 = aws.client("elbv2")
    balancers = elbv2.describe_load_balancers()["LoadBalancers"]
    left += [lb["LoadBalancerArn"] for lb in balancers if lb["LoadBalancerArn"] == resources["arn"]]
    groups = aws.client("ec2").describe_security_groups()["SecurityGroups"]
    left += [g["GroupId"] for g in groups if g["GroupId"] == resources["security_group_id"]]
    return left


def ids(aws: EmbeddedAWS) -> set[str]:
    return {item["gateway_id"] for item in gateway_items(aws)}


def test_an_idle_gateway_is_removed_after_its_idle_time_and_one_in_use_never(
    embedded: EmbeddedAWS, env_name
):
    names = [f"{env_name[:14]}-a", f"{env_name[:14]}-b"]
    with deployment_settings(embedded, GATEWAY_IDLE_MINUTES="10", GATEWAY_MAX_ENVIRONMENTS="1"):
        # Given two environments on two gateways, the first then torn down
        made = [embedded.provision(shared(name)) for name in names]
        assert [execution.status for execution in made] == ["SUCCEEDED"] * 2
        emptied, used = gateway_of(embedded, names[0]), gateway_of(embedded, names[1])
        assert embedded.teardown(names[0]).status == "SUCCEEDED"

        # When the gateways machine runs before the idle time has passed
        early = embedded.maintain_gateways()

        # Then both gateways stay
        assert early.status == "SUCCEEDED", early.cause
        assert {emptied["gateway_id"], used["gateway_id"]} <= ids(embedded)

        # When it runs again once the emptied gateway has been idle for more than 10 minutes
        embedded.clock.advance(11 * MINUTE)
        late = embedded.maintain_gateways()

        # Then the idle gateway is gone, its load balancer, security group and registry item;
        # the one in use stays, its environment still answering as itself
        assert late.status == "SUCCEEDED", late.cause
        assert emptied["gateway_id"] in late.output["plan"]["remove"]
        assert emptied["gateway_id"] not in ids(embedded)
        assert gateway_resources_left(embedded, emptied) == []
        assert used["gateway_id"] in ids(embedded)
        assert gateway_resources_left(embedded, used) != []
        assert endpoint.get(made[1].output["url"], timeout=5).get("environment") == names[1]

        # And once the last environment goes and the idle time passes, that gateway goes too
        assert embedded.teardown(names[1]).status == "SUCCEEDED"
        embedded.clock.advance(11 * MINUTE)
        assert embedded.maintain_gateways().status == "SUCCEEDED"
        assert used["gateway_id"] not in ids(embedded)
        assert gateway_resources_left(embedded, used) == []
        for name in names:
            assert embedded.remaining(name) == []


def test_a_gateway_an_environment_is_joining_is_never_removed(embedded: EmbeddedAWS, env_name):
    with deployment_settings(embedded, GATEWAY_IDLE_MINUTES="0"):
        # Given an environment whose provisioning holds a slot on a gateway and is about to
        # route on it (held there)
        held = Hold("create_listeners")
        embedded.reconfigure(faults=Faults(holds=[held]))
        running = embedded.start_execution(
            embedded.provision_arn, {"spec": shared(env_name)}, env_name
        )
        assert held.reached.wait(120), "the provisioning never reached its route"
        joined = gateway_of(embedded, env_name)

        # When the gateways machine removes every empty gateway meanwhile
        maintained = embedded.maintain_gateways()

        # Then it does not remove that one, and the environment comes up on it
        assert maintained.status == "SUCCEEDED", maintained.cause
        assert joined["gateway_id"] not in maintained.output["plan"]["remove"]
        held.release()
        made = embedded.wait(running)
        embedded.reconfigure(faults=Faults())
        assert made.status == "SUCCEEDED", made.cause
        assert gateway_of(embedded, env_name)["gateway_id"] == joined["gateway_id"]
        assert endpoint.get(made.output["url"], timeout=5).get("environment") == env_name
        assert embedded.teardown(env_name).status == "SUCCEEDED"
        assert embedded.maintain_gateways().status == "SUCCEEDED"
    assert embedded.remaining(env_name) == []
    assert joined["gateway_id"] not in ids(embedded)


def test_warm_gateways_are_ready_before_environments_need_them(embedded: EmbeddedAWS, env_name):
    with deployment_settings(
        embedded, GATEWAY_WARM_COUNT="2", GATEWAY_MAX_ENVIRONMENTS="1", GATEWAY_IDLE_MINUTES="0"
    ):
        # When the gateways machine runs on a deployment keeping 2 gateways warm
        made = embedded.maintain_gateways()

        # Then two gateways with room are READY, their load balancers made
        assert made.status == "SUCCEEDED", made.cause
        roomy = [
            item
            for item in gateway_items(embedded)
            if item["status"] == "READY" and not item["members"] and not item["blocked"]
        ]
        assert len(roomy) == 2, gateway_items(embedded)
        assert all(gateway_resources_left(embedded, item) for item in roomy)

        # When an environment is created
        before = ids(embedded)
        created = embedded.provision(shared(env_name))

        # Then it is placed on a warm gateway: none is made for it
        assert created.status == "SUCCEEDED", created.cause
        assert gateway_of(embedded, env_name)["gateway_id"] in {g["gateway_id"] for g in roomy}
        assert ids(embedded) == before

        # And the next run makes another, so that 2 have room again
        assert embedded.maintain_gateways().status == "SUCCEEDED"
        with_room = [
            item
            for item in gateway_items(embedded)
            if item["status"] == "READY" and not item["members"]
        ]
        assert len(with_room) == 2

        # And once the environment is gone, idle removal keeps the 2 warm ones only
        assert embedded.teardown(env_name).status == "SUCCEEDED"
        assert embedded.maintain_gateways().status == "SUCCEEDED"
        assert len(gateway_items(embedded)) == 2
    assert embedded.remaining(env_name) == []


def test_a_failed_run_fails_in_the_one_failure_shape_and_the_next_run_resumes(
    embedded: EmbeddedAWS, env_name
):
    # Given no empty gateway (other tests' removed)
    with deployment_settings(embedded, GATEWAY_IDLE_MINUTES="0"):
        assert embedded.maintain_gateways().status == "SUCCEEDED"
    with deployment_settings(embedded, GATEWAY_WARM_COUNT="1", GATEWAY_IDLE_MINUTES="0"):
        # When making the warm gateway fails (after its work: the load balancer exists)
        embedded.reconfigure(faults=Faults(steps=[StepFault(step="make_gateway", when="after")]))
        failed = embedded.maintain_gateways()
        embedded.reconfigure(faults=Faults())

        # Then the run fails in the one shape (checked for every test), naming the state
        assert failed.status == "FAILED"
        cause = failed.cause_json()
        assert (cause["environment"], cause["failed_step"]) == (None, "Make the warm gateways")
        assert "fault injected" in cause["message"]

        # And the next run finishes: one gateway with room, READY
        assert embedded.maintain_gateways().status == "SUCCEEDED"
        ready = [
            item
            for item in gateway_items(embedded)
            if item["status"] == "READY" and not item["members"]
        ]
        assert len(ready) >= 1
    with deployment_settings(embedded, GATEWAY_IDLE_MINUTES="0"):
        assert embedded.maintain_gateways().status == "SUCCEEDED"
    assert not [item for item in gateway_items(embedded) if not item["members"]]
