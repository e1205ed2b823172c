"""An environment's life as other systems see it: the registry status, the expiry schedule and
the lifecycle events, moved together at the start and end of each flow."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fargate_env import (
    bounds,
    clock,
    failures,
    gateways,
    lifecycle_events,
    pricing,
    registry,
    schedules,
    validation,
)
from fargate_env.errors import EnvironmentBusy, EnvironmentNotFound, InvalidSpec
from fargate_env.payloads import NormalisedSpec, ProvisioningFailed

#: The furthest an expiry may be moved: the spec's own bound on time_to_live_minutes (a year).
MAX_EXPIRY_AHEAD = timedelta(minutes=525_600)


def claim(spec: NormalisedSpec, execution_arn: str, requested_at: str) -> dict[str, Any]:
    """Start of provisioning: one execution per environment (EnvironmentBusy otherwise), in the
    order the requests were made (a later teardown supersedes it; it waits for an earlier one)."""
    return registry.claim_for_provisioning(spec["name"], spec, execution_arn, requested_at)


def ready(spec: NormalisedSpec, execution_arn: str, outcome: dict[str, Any]) -> dict[str, Any]:
    """End of a successful provisioning: expiry scheduled, READY recorded, event published."""
    expiry = schedules.ensure(spec)
    network = (outcome.get("resources") or {}).get("network") or {}
    zones = len(network.get("load_balancer_subnet_ids") or network.get("subnet_ids") or [])
    sharing = gateways.Settings.load().capacity()
    hourly_cost = pricing.estimate(spec, zones=zones or None, sharing=sharing)["hourly"]
    recorded = registry.mark_ready(
        spec["name"],
        execution_arn,
        {
            "resources": outcome.get("resources") or {},
            "url": outcome.get("url"),
            "expires_at": expiry["expires_at"],
        },
    )
    lifecycle_events.publish(
        lifecycle_events.READY,
        {
            "name": spec["name"],
            "url": outcome.get("url"),
            "load_balancers": outcome.get("load_balancers", []),
            "expires_at": expiry["expires_at"],
            "estimated_hourly_cost_usd": hourly_cost,
            "execution": execution_arn,
        },
    )
    return {"recorded": recorded, **expiry}


def extend(name: str, seconds: int, now: float | None = None) -> dict[str, Any]:
    """Give a READY environment `seconds` more before it expires: its expiry schedule and the
    registry's expires_at move together (from the current expiry, or from `now` if that passed;
    `now` is AWS's time as the caller knows it, this machine's by default)."""
    if seconds <= 0:
        raise InvalidSpec(f"duration: must be positive (got {seconds} seconds)")
    current = registry.get(name)
    if current is None:
        raise EnvironmentNotFound(f"no environment named {name!r}")
    if current["status"] != registry.READY:
        raise EnvironmentBusy(
            f"environment {name!r} is {current['status']}: only a READY environment can be "
            "extended. Nothing was changed."
        )
    previous = current.get("expires_at")
    if not previous:
        raise InvalidSpec(
            f"environment {name!r} has no time to live (time_to_live_minutes is null): it never "
            "expires, so there is nothing to extend"
        )
    now_at = datetime.fromtimestamp(clock.now() if now is None else now, tz=UTC)
    at = (max(datetime.fromisoformat(previous), now_at) + timedelta(seconds=seconds)).replace(
        microsecond=0
    )
    if at - now_at > MAX_EXPIRY_AHEAD:
        raise InvalidSpec(
            f"duration: the expiry would be {at.isoformat()}, more than a year ahead "
            "(time_to_live_minutes allows at most 525600)"
        )
    moved = schedules.move(name, at)
    if moved is None or not registry.set_expiry(name, at.isoformat(), str(previous)):
        raise EnvironmentBusy(
            f"environment {name!r} changed while it was being extended (its expiry schedule "
            "may have started the teardown): check it with `fenv status`"
        )
    return {"name": name, "expires_at": at.isoformat(), "previous_expires_at": previous}


def failed(provisioning: ProvisioningFailed) -> dict[str, Any]:
    """End of a failed provisioning (after rollback, or with resources retained): the failure
    in its one shape recorded, announced, and returned as the Fail state's error and cause."""
    spec, execution_arn = provisioning["spec"], provisioning["execution_id"]
    failure, rollback = provisioning["failure"], provisioning.get("rollback")
    resources = provisioning.get("resources") or {}
    summary = failures.of_provisioning(spec, failure, rollback)
    retained = spec.get("on_failure") == "retain"
    recorded = registry.mark_failed(
        spec["name"],
        execution_arn,
        {"failure": summary, "resources": resources if retained else {}, "retained": retained},
    )
    lifecycle_events.publish(lifecycle_events.FAILED, {**summary, "execution": execution_arn})
    return {
        "recorded": recorded,
        "error": failures.execution_error(summary["error"]),
        "cause": json.dumps(summary),
    }


def teardown_polling(spec: NormalisedSpec | None) -> bounds.TeardownPolling:
    """How often and how many times the teardown's waits may look: the tasks drain for the
    slowest load balancer's deregistration delay and stop within their stop timeout."""
    if not spec:
        return bounds.DEFAULT_TEARDOWN_POLLING
    drain = max(lb["target_group"]["deregistration_delay_seconds"] for lb in spec["load_balancers"])
    return bounds.teardown_polling(drain, spec["container"]["stop_timeout_seconds"])


def begin_teardown(
    execution_input: Any, execution_arn: str, started_at: str | None
) -> dict[str, Any]:
    """Start of a teardown: its input validated (InvalidRequest naming the field, before any
    write), then the claim. `outcome` tells the state machine what to do: "claimed" (tear
    down), "waiting" (the environment is still being created: come back), "superseded" (a
    create was requested after this teardown: nothing changes). `resources` are the recorded
    ids to delete besides the lookups; `mode` says whether it may have routes on gateways;
    `interval_seconds` and `max_polls` bound its waits after the environment's own settings."""
    request = validation.validate_teardown(execution_input, started_at)
    name, reason = request["name"], request["reason"]
    if reason == "rollback":
        # The provisioning execution that rolls back owns the registry item (CREATING).
        current = registry.get(name) or {}
        claimed: dict[str, Any] = {
            "outcome": registry.CLAIMED,
            "status": registry.CREATING,
            "message": "",
            "spec": current.get("spec"),
        }
    else:
        claimed = registry.claim_for_teardown(name, execution_arn, request["requested_at"])
    return {
        "name": name,
        "reason": reason,
        "requested_at": request["requested_at"],
        "outcome": claimed["outcome"],
        "status": claimed["status"],
        "message": claimed["message"],
        "resources": request["resources"] or claimed.get("resources"),
        "mode": mode_of(claimed.get("spec")),
        **teardown_polling(claimed.get("spec"))._asdict(),
    }


def mode_of(spec: NormalisedSpec | None) -> str:
    """The environment's mode as recorded; "unknown" without a record (its teardown then looks
    for routes on gateways too)."""
    if not spec:
        return "unknown"
    return str(spec.get("mode") or "dedicated")


def deleted(name: str, execution_arn: str, reason: str, summary: dict[str, Any]) -> dict[str, Any]:
    """End of a teardown: DELETED recorded and the event published (not for a rollback, whose
    provisioning execution reports the failure instead)."""
    if reason == "rollback":
        return {"recorded": False}
    recorded = registry.mark_deleted(name, execution_arn, summary)
    lifecycle_events.publish(
        lifecycle_events.DELETED,
        {"name": name, "reason": reason, "deleted": summary, "execution": execution_arn},
    )
    return {"recorded": recorded}
