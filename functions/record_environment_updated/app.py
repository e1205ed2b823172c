"""Record the update: old revisions cleaned, the registry READY with the new revision, the
"Environment Updated" event."""

from typing import Any

from fargate_env import update
from fargate_env.observability import step
from fargate_env.payloads import UpdateSucceeded


@step("record_environment_updated")
def lambda_handler(event: UpdateSucceeded, context: Any) -> dict[str, Any]:
    return update.updated(event)
