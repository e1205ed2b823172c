"""The gateways machine's decisions on a moto registry: idle gateways marked DRAINING only while
empty, a joining environment and a removal never both winning, the warm count kept."""

from __future__ import annotations

import pytest

from fargate_env import clock, gateway_registry, gateways, naming, settings

SCHEME = "internet-facing"


@pytest.fixture
def registry(deployment) -> None:
    """The deployment's registry, its clock at a fixed moment the test moves."""


def test_an_empty_gateway_and_a_joining_environment_never_both_win(registry, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: 1_000_000.0)
    assert gateway_registry.register(SCHEME, 1)
    assert gateway_registry.register(SCHEME, 2)

    # The removal first: the environment cannot join any more
    assert gateway_registry.mark_draining("e1", None)
    assert not gateway_registry.add_member("e1", 0, "pr-1")

    # The environment first: the gateway cannot be marked for removal
    assert gateway_registry.add_member("e2", 0, "pr-2")
    assert not gateway_registry.mark_draining("e2", None)
    # ... nor once it left, before its idle time (it is empty since now)
    assert gateway_registry.remove_member("e2", 0, "pr-2")
    assert not gateway_registry.mark_draining("e2", "1970-01-12T13:46:39+00:00")
    assert gateway_registry.mark_draining("e2", gateway_registry.now_iso())
    # A removed gateway's item goes only once it is DRAINING
    assert gateway_registry.forget("e2")
    assert gateway_registry.get("e2") is None


@pytest.mark.parametrize(
    ("warm", "idle", "members", "made", "removed"),
    [
        # keep 2 warm, 1 empty: one more registered; nothing idle removed (idle: keep)
        ("2", "keep", [[]], ["e2"], []),
        # 3 empty, keep 1, idle 0: the two newest removed, the oldest kept warm
        ("1", "0", [[], [], []], [], ["e3", "e2"]),
        # idle 0, no warm: an empty one removed, one with an environment never
        ("0", "0", [["pr-1"], []], [], ["e2"]),
        # idle 10 minutes: nothing idle yet
        ("0", "10", [[], []], [], []),
    ],
)
def test_the_plan_keeps_the_warm_count_and_removes_only_idle_empty_gateways(
    registry, monkeypatch, warm, idle, members, made, removed
):
    monkeypatch.setattr(clock, "now", lambda: 1_000_000.0)
    for number, held in enumerate(members, start=1):
        assert gateway_registry.register(SCHEME, number)
        for slot, env in enumerate(held):
            assert gateway_registry.add_member(f"e{number}", slot, env)
        gateway_registry.mark_ready(f"e{number}", {"arn": f"lb-{number}"})

    with settings.scope({"GATEWAY_WARM_COUNT": warm, "GATEWAY_IDLE_MINUTES": idle}):
        planned = gateways.plan()

    assert planned == {"create": made, "remove": removed}
    statuses = {item["gateway_id"]: item["status"] for item in gateway_registry.all_gateways()}
    assert all(statuses[identifier] == gateway_registry.DRAINING for identifier in removed)
    assert all(statuses[identifier] == gateway_registry.CREATING for identifier in made)


def test_idle_minutes_keep_or_a_number():
    with settings.scope({"GATEWAY_IDLE_MINUTES": "keep"}):
        assert gateways.Settings.load().idle_minutes is None
    with settings.scope({"GATEWAY_IDLE_MINUTES": "30"}):
        assert gateways.Settings.load().idle_minutes == 30


def test_only_a_draining_gateway_is_removed(registry):
    assert gateway_registry.register(SCHEME, 1)
    with pytest.raises(Exception, match="not DRAINING"):
        gateways.remove("e1")
    assert gateways.remove("e9") == {"gateway_id": "e9", "deleted": []}


def test_a_gateway_of_the_other_routing_takes_no_new_environment(registry):
    # Given a gateway made before the deployment had a domain (port routing), with room
    assert gateway_registry.register(SCHEME, 1)
    gateway_registry.mark_ready("e1", {"arn": "lb-1", "routing": gateways.PORT})

    # When an environment is placed once the deployment routes by host name
    with settings.scope({"GATEWAY_DOMAIN": "preview.example.test", "GATEWAY_WARM_COUNT": "2"}):
        placed = gateways.place("pr-1", SCHEME)
        planned = gateways.plan()

    # Then it goes to a new gateway, and the old one does not count as warm: with the new one
    # (e2, still being made), a third is made to keep 2 with room
    assert placed["gateway_id"] == "e2"
    assert gateway_registry.get("e1")["members"] == {}
    assert planned == {"create": ["e3", "e2"], "remove": []}


def test_a_gateway_listener_made_at_once_by_another_execution_is_retried_then_adopted(
    deployment, monkeypatch
):
    """Two executions making one new gateway: both see no listener on port 80, one creates it
    first; the other's DuplicateListener is ResourceNotReady (its Task retries it: the
    provisioning's and the gateways machine's Retry), and the retry adopts the listener."""
    import boto3

    from fargate_env import load_balancers
    from fargate_env.errors import ResourceNotReady
    from tools.statemachines import build

    elbv2 = boto3.client("elbv2", region_name="us-east-1")
    subnets = boto3.client("ec2", region_name="us-east-1").describe_subnets()["Subnets"]
    made = elbv2.create_load_balancer(
        Name="fenv-gw-race-e-1", Subnets=[subnet["SubnetId"] for subnet in subnets[:2]]
    )["LoadBalancers"][0]
    lb = {"arn": made["LoadBalancerArn"], "name": made["LoadBalancerName"]}
    wanted = [
        {"Port": 80, "Protocol": "HTTP", "DefaultActions": [gateways.fixed_response(404, "")]}
    ]

    class OtherExecutionFirst:
        """elbv2, where the other execution creates the listener right after our look."""

        def __init__(self, real: object) -> None:
            self.real = real

        def __getattr__(self, name: str) -> object:
            return getattr(self.real, name)

        def describe_listeners(self, **request: object) -> dict:
            seen = self.real.describe_listeners(**request)
            self.real.create_listener(LoadBalancerArn=lb["arn"], **wanted[0])
            return seen

    real_client = load_balancers.client
    monkeypatch.setattr(
        load_balancers, "client", lambda name: OtherExecutionFirst(real_client(name))
    )
    with pytest.raises(ResourceNotReady, match="appeared concurrently"):
        load_balancers.ensure_gateway_listeners(lb, wanted, naming.gateway_tags("e1"))
    monkeypatch.setattr(load_balancers, "client", real_client)

    adopted = load_balancers.ensure_gateway_listeners(lb, wanted, naming.gateway_tags("e1"))

    [listener] = elbv2.describe_listeners(LoadBalancerArn=lb["arn"])["Listeners"]
    assert adopted == {"80": listener["ListenerArn"]}
    # ... and the Tasks that make gateways retry ResourceNotReady
    machines = build.definitions()
    states = {
        **machines["provision"]["States"]["Create the building blocks"]["Branches"][0]["States"][
            "Create each load balancer"
        ]["ItemProcessor"]["States"],
        **machines["gateways"]["States"]["Make the warm gateways"]["ItemProcessor"]["States"],
    }
    for name in ("Create the load balancer", "Make the warm gateways: one"):
        assert any("ResourceNotReady" in rule["ErrorEquals"] for rule in states[name]["Retry"])
