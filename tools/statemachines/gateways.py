"""The gateways machine (shared mode's maintenance, on a schedule): plan, make the gateways kept
warm (GatewayWarmCount), remove the idle ones (GatewayIdleMinutes). Every gateway it touches is
recorded in the registry; it removes only a gateway the registry marked DRAINING, which a
conditional write does only while the gateway has no environment."""

from __future__ import annotations

from fargate_env import bounds, failures
from tools.statemachines import asl
from tools.statemachines.asl import Json, State, x
from tools.statemachines.bounds_check import Loop

RESULT = "$states.result.Payload"
PLAN = "Plan the gateways"
MAKE = "Make the warm gateways"
REMOVE = "Remove the idle gateways"
DONE = "Gateways maintained"
FAILED = "Maintenance failed"

fail = asl.refuse_to(
    FAILED,
    "Fail in the one failure shape: the registry says what each gateway is now",
    environment="null",
    resources=failures.GATEWAYS_AS_RECORDED,
    next_step=failures.GATEWAYS_NEXT_RUN,
)


def loops() -> list[Loop]:
    """No loop: one plan, then each gateway's step (its retries bounded by its Retry)."""
    return []


def each_gateway(name: str, items: str, step: str, comment: str, not_ready: str) -> State:
    """A Map running `step` for each gateway id of `items` at once; a failure fails the Map."""
    processor = asl.scope(
        asl.task(
            f"{name}: one",
            step,
            comment,
            {"gateway_id": "$states.input"},
            lambda state: [],
            not_ready=not_ready,
            output=RESULT,
        )
    )
    state: Json = {
        "Type": "Map",
        "Comment": f"{comment} (every gateway at once)",
        "Items": x(items),
        "MaxConcurrency": 0,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, **processor},
        "Catch": fail(name),
    }
    return name, state


def definition() -> Json:
    return asl.machine(
        "fargate-env: keep GatewayWarmCount gateways with room and remove gateways idle for "
        "GatewayIdleMinutes (shared mode), on a schedule.",
        bounds.GATEWAYS_TIMEOUT_SECONDS,
        asl.task(
            PLAN,
            "plan_gateways",
            "Register the warm gateways to make; mark the idle ones DRAINING (only while "
            "empty: a conditional write an environment joining at once makes fail).",
            {},
            fail,
            assign={"plan": RESULT},
        ),
        each_gateway(
            MAKE,
            "$plan.create",
            "make_gateway",
            "Its security group, load balancer and listeners; READY.",
            "a listener being made at once by an environment joining the gateway",
        ),
        each_gateway(
            REMOVE,
            "$plan.remove",
            "remove_gateway",
            "Its listeners, load balancer, wildcard record, security group and registry item.",
            "the group is used until its load balancer's network interfaces are released",
        ),
        asl.succeed(DONE, "Report what this run made and removed.", {"plan": "$plan"}),
        asl.fail_with_input(FAILED, "A step failed: its failure in the one shape."),
    )
