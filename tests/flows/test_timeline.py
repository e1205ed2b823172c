"""What the execution history shows: independent creates overlap, and the service is created
while the load balancer is still provisioning (AWS's ~150 s to active is the floor)."""

from __future__ import annotations

from embedded_aws.emulator import EmbeddedAWS
from tests.flows.conftest import REAL


def state_intervals(events: list[dict]) -> dict[str, list[tuple[float, float]]]:
    """State name -> [(entered, exited)] in simulated seconds from the execution's start."""
    start = events[0]["timestamp"].timestamp()
    opened: dict[str, float] = {}
    intervals: dict[str, list[tuple[float, float]]] = {}
    for event in events:
        moment = event["timestamp"].timestamp() - start
        if event["type"].endswith("StateEntered"):
            opened[event["stateEnteredEventDetails"]["name"]] = moment
        elif event["type"].endswith("StateExited"):
            name = event["stateExitedEventDetails"]["name"]
            intervals.setdefault(name, []).append((opened.pop(name), moment))
    return intervals


def overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def test_branches_overlap_and_the_service_is_created_before_the_load_balancer_is_active(
    embedded: EmbeddedAWS, env_name
):
    embedded.reconfigure(model=REAL)
    execution = embedded.provision({"name": env_name})
    assert execution.status == "SUCCEEDED", execution.cause
    intervals = state_intervals(embedded.history(execution.arn))

    # The three branches' first steps run at the same time
    security_groups = intervals["Create the security groups"][0]
    log_group = intervals["Create the log group"][0]
    cluster = intervals["Create the cluster"][0]
    assert overlap(security_groups, log_group)
    assert overlap(security_groups, cluster)
    assert overlap(log_group, cluster)
    # ... and the task definition is registered while the load balancer branch is still busy
    load_balancer_branch = (security_groups[0], intervals["Create each load balancer"][0][1])
    assert overlap(intervals["Register the task definition"][0], load_balancer_branch)

    # The service exists before the load balancer is active: AWS's time to active is the floor
    lb = next(
        sim for sim in embedded.plane.load_balancers.values() if sim.name == f"fenv-{env_name}-web"
    )
    active_at = lb.active_at - execution.started  # simulated seconds into the execution
    service_created = intervals["Create the service"][0][1]
    assert service_created < active_at
    # The first readiness check found the load balancer still provisioning
    assert len(intervals["Check the load balancers are active"]) > 1
    # And the whole create ends within a polling interval plus a health check of that floor
    assert execution.duration < active_at + 10 + 10 + 5
