"""Start the teardown of each leftover found (a stale update whose service serves goes back to
READY), unless it is a dry run; publish the "Reconcile Report" event."""

from typing import Any

from fargate_env import reconcile
from fargate_env.observability import step


@step("reap_leftovers")
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return reconcile.reap(event["plan"], event["execution_id"])
