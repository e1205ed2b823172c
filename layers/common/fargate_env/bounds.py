"""Every time bound of the two state machines, in one place.

The state machine builder (tools/statemachines) writes these into the ASL and refuses to write
a machine whose bounds do not nest: each Task's TimeoutSeconds covers its function's Timeout,
the rollback Task's timeout covers the teardown's worst case, each machine's TimeoutSeconds
exceeds its worst case, and each machine's worst-case history stays under Step Functions'
limit. The spec model (the polling rule) and lifecycle.py (the teardown's waits) read them too.
"""

from __future__ import annotations

import math
from typing import Final, NamedTuple

#: A Standard execution fails when its history reaches 25,000 events ("Maximum execution
#: history size", Step Functions service quotas): no Catch, no rollback, orphans.
HISTORY_EVENT_LIMIT: Final = 25_000


class Backoff(NamedTuple):
    """A Retry rule's numbers (the ASL's field of the same name in parentheses)."""

    interval_seconds: int  # IntervalSeconds
    max_attempts: int  # MaxAttempts
    rate: float  # BackoffRate
    max_delay_seconds: int  # MaxDelaySeconds


# --- Provisioning: the spec's `polling` ------------------------------------------------------
POLL_INTERVAL_SECONDS: Final = 10
POLL_INTERVAL_RANGE: Final = (1, 300)
POLL_DEADLINE_SECONDS: Final = 1200
POLL_DEADLINE_RANGE: Final = (60, 7200)
#: Looks the provisioning's two waits may take in all (they share one counter): about 21
#: history events each at worst, so 720 leave room under the limit (the builder checks it).
MAX_PROVISION_POLLS: Final = 720


#: Shared mode's interval when the spec gives none: on a warm gateway the provisioning waits
#: only for the task (about a minute), so the URL is seen at most this long after it answers.
SHARED_POLL_INTERVAL_SECONDS: Final = 5


def shared_poll_interval(deadline_seconds: int) -> int:
    """Shared mode's default interval: SHARED_POLL_INTERVAL_SECONDS, or longer when the
    deadline would need more than MAX_PROVISION_POLLS looks."""
    return max(SHARED_POLL_INTERVAL_SECONDS, math.ceil(deadline_seconds / MAX_PROVISION_POLLS))


def provision_polls(interval_seconds: int, deadline_seconds: int) -> int:
    """The looks a spec's polling allows (the ASL's maxPolls computes the same)."""
    return math.ceil(deadline_seconds / interval_seconds)


# --- Provisioning: the one-off task before traffic (spec `pre_traffic_task`) -----------------
PRE_TRAFFIC_TIMEOUT_SECONDS: Final = 900
PRE_TRAFFIC_TIMEOUT_RANGE: Final = (30, 3600)
PRE_TRAFFIC_POLL_SECONDS: Final = 10
#: Looks at the task at most (~21 history events each at worst): a longer timeout is looked at
#: less often instead. The last look comes after the timeout, to stop the task and say so.
MAX_PRE_TRAFFIC_POLLS: Final = 240


class Polling(NamedTuple):
    """A bounded wait: look every `interval_seconds`, at most `max_polls` times."""

    interval_seconds: int
    max_polls: int

    @property
    def worst_case_seconds(self) -> int:
        """How long the wait lasts when the last look still finds nothing."""
        return self.interval_seconds * self.max_polls


def pre_traffic_polling(timeout_seconds: int) -> Polling:
    """Looks every PRE_TRAFFIC_POLL_SECONDS, or less often for a long timeout, so that the
    timeout plus one look fits in MAX_PRE_TRAFFIC_POLLS."""
    interval = max(
        PRE_TRAFFIC_POLL_SECONDS, math.ceil(timeout_seconds / (MAX_PRE_TRAFFIC_POLLS - 1))
    )
    return Polling(interval, math.ceil(timeout_seconds / interval) + 1)


# --- Teardown: waiting for the tasks to stop and the load balancers to go --------------------
TEARDOWN_POLL_SECONDS: Final = 5
#: The bound when nothing asks for more: 15 minutes of 5-second looks.
TEARDOWN_DEFAULT_POLLS: Final = 180
TEARDOWN_MARGIN_SECONDS: Final = 600
#: Looks per wait; both waits run at once, so a longer drain is watched less often instead.
TEARDOWN_MAX_POLLS: Final = 400


TeardownPolling = Polling


def teardown_polling(drain_seconds: int, stop_seconds: int) -> TeardownPolling:
    """Tasks drain for the deregistration delay and stop within their stop timeout; the waits
    cover both plus a margin, in at most TEARDOWN_MAX_POLLS looks."""
    needed = drain_seconds + stop_seconds + TEARDOWN_MARGIN_SECONDS
    interval = max(TEARDOWN_POLL_SECONDS, math.ceil(needed / TEARDOWN_MAX_POLLS))
    return TeardownPolling(interval, max(TEARDOWN_DEFAULT_POLLS, math.ceil(needed / interval)))


DEFAULT_TEARDOWN_POLLING: Final = TeardownPolling(TEARDOWN_POLL_SECONDS, TEARDOWN_DEFAULT_POLLS)

#: A teardown of an environment still being created waits for that provisioning to end:
#: 240 looks 30 s apart (2 hours), then gives up touching nothing.
CREATION_WAIT: Final = Polling(interval_seconds=30, max_polls=240)
#: A create requested after a teardown that still runs waits for it to end: 120 looks 60 s
#: apart (2 hours), then gives up creating nothing.
TEARDOWN_WAIT: Final = Polling(interval_seconds=60, max_polls=120)

# --- Gateways (shared mode) -----------------------------------------------------------------
#: Rounds of placement (read the gateways, claim a free slot or register a new gateway) before
#: a step gives up to its retry: each lost round means another execution took a slot meanwhile.
PLACEMENT_ROUNDS: Final = 20
#: Gateways the gateways machine creates, and removes, in one run (the next run does the rest).
MAX_GATEWAYS_PER_RUN: Final = 10

# --- Retries -------------------------------------------------------------------------------
#: Lambda service errors and AWS server errors that outlived boto3's own retries (every Task).
TRANSIENT_RETRY: Final = Backoff(1, 4, 2.0, 20)
#: AWS throttling that outlived boto3's own retries (every Task but a bounded wait's look): the
#: account's rate for a call is spent, by many environments at once. Pauses of 2, 4, ... up to
#: 60 s (FULL jitter spreads the executions that were throttled together), about 6 minutes in
#: all: token buckets refill per second, so minutes let hundreds of calls through.
THROTTLING_RETRY: Final = Backoff(2, 14, 2.0, 60)
#: The looks of bounded waits: a look AWS throttles is a look that saw nothing yet
#: (observability.step answers "not ready"); the loop looks again after its interval and its
#: bound still ends it.
THROTTLED_LOOK_STEPS: Final = frozenset(
    {
        "wait_load_balancers_active",
        "wait_service_stable",
        "wait_service_deleted",
        "wait_load_balancers_deleted",
        "check_rollout",
    }
)
#: Steps whose Task is one turn of a loop (the looks above, and the steps that wait for another
#: execution or for the pre-traffic task): throttling is retried on them like other transient
#: errors, not THROTTLING_RETRY's minutes, because a loop's worst-case history is its bound
#: times each turn's retries (the builder checks it against HISTORY_EVENT_LIMIT).
LOOPED_STEPS: Final = THROTTLED_LOOK_STEPS | {
    "claim_environment",
    "begin_teardown",
    "check_pre_traffic_task",
}

#: Step Functions refusing to start the rollback's nested execution.
ROLLBACK_START_RETRY: Final = Backoff(2, 4, 2.0, 20)
#: Steps that raise ResourceNotReady while AWS catches up, and how long they wait for it.
NOT_READY_RETRY: Final[dict[str, Backoff]] = {
    "create_service": Backoff(10, 30, 1.0, 10),  # a same-name service still draining
    "delete_target_groups": Backoff(2, 10, 1.5, 10),  # a listener still using one
    "delete_cluster": Backoff(2, 10, 1.5, 10),  # tasks still being stopped
    "delete_security_groups": Backoff(5, 100, 1.5, 15),  # network interfaces released late
    "create_load_balancer": Backoff(1, 5, 2.0, 10),  # placements racing for the last slots
    "make_gateway": Backoff(1, 5, 2.0, 10),  # a listener made by a joining environment at once
    # a removed gateway's group, used until its load balancer's network interfaces are released
    "remove_gateway": Backoff(5, 100, 1.5, 15),
}

# --- Timeouts ------------------------------------------------------------------------------
#: Each Lambda Task's TimeoutSeconds, by step (functions/<step>): at least the function's own
#: Timeout in template.yaml, so Lambda's error, not Step Functions' timeout, ends a slow call.
TASK_TIMEOUT_SECONDS: Final[dict[str, int]] = {
    "validate_spec": 30,
    "claim_environment": 30,
    "resolve_network": 30,
    "create_security_groups": 60,
    "create_target_group": 60,
    "create_load_balancer": 60,
    "create_listeners": 60,
    "create_log_group": 60,
    "create_execution_role": 60,
    "register_task_definition": 60,
    "run_pre_traffic_task": 60,
    "check_pre_traffic_task": 30,
    "create_cluster": 60,
    "create_service": 60,
    "wait_load_balancers_active": 30,
    "wait_service_stable": 30,
    "verify_endpoint": 120,
    "record_environment_ready": 30,
    "record_provisioning_failure": 30,
    "begin_teardown": 30,
    "find_environment_resources": 60,
    "delete_service": 60,
    "wait_service_deleted": 30,
    "delete_load_balancers": 60,
    "wait_load_balancers_deleted": 30,
    "delete_target_groups": 60,
    "delete_task_definitions": 60,
    "delete_cluster": 60,
    "delete_log_group": 60,
    "delete_expiry_schedule": 60,
    "delete_execution_role": 60,
    "delete_security_groups": 60,
    "record_environment_deleted": 30,
    "begin_update": 30,
    "roll_out_update": 60,
    "check_rollout": 30,
    "verify_update": 120,
    "record_environment_updated": 60,
    "record_update_failure": 60,
    "find_leftovers": 120,
    "reap_leftovers": 120,
    "plan_gateways": 60,
    "make_gateway": 60,
    "remove_gateway": 60,
}
#: The rollback runs the teardown machine as a nested execution: at least the teardown's worst
#: case (it never waits for a creation), or the rollback is cut off and leaves resources.
ROLLBACK_TIMEOUT_SECONDS: Final = 100_800
#: The reconcile (reconcile.py) reads and starts, it never waits: its two steps and their retries.
RECONCILE_TIMEOUT_SECONDS: Final = 7_200
#: Teardowns one reconcile run starts at most; the rest are reported as deferred (the next run
#: takes them): a registry gone wrong cannot start hundreds of teardowns at once.
MAX_TEARDOWNS_PER_RUN: Final = 10
#: Each machine's TimeoutSeconds: beyond its worst case, so an inner bound always ends a
#: stuck wait first, with its own message (the builder prints the worst cases).
PROVISION_TIMEOUT_SECONDS: Final = 345_600
TEARDOWN_TIMEOUT_SECONDS: Final = 172_800
UPDATE_TIMEOUT_SECONDS: Final = 172_800
GATEWAYS_TIMEOUT_SECONDS: Final = 86_400

# --- Update --------------------------------------------------------------------------------
#: Task definition revisions an update keeps (the newest; older ones are deregistered and
#: deleted): enough to go back a few updates by hand.
KEPT_TASK_DEFINITION_REVISIONS: Final = 5
#: Revisions the registry lists per environment (image, when, by which execution).
RECORDED_REVISIONS: Final = 20
