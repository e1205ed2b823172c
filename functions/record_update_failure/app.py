"""Put the service back on its previous revision, record the failure (the environment stays
READY) and announce it; returns the failure the execution fails with."""

from typing import Any

from fargate_env import update
from fargate_env.observability import step
from fargate_env.payloads import UpdateFailed


@step("record_update_failure")
def lambda_handler(event: UpdateFailed, context: Any) -> dict[str, Any]:
    return update.failed(event)
