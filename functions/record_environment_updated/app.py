"""Record the update: old revisions cleaned, the registry READY with the new revision, the
"Environment Updated" event."""

from typing import Any

from fargate_env import update
from fargate_env.observability import step


@step("record_environment_updated")
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return update.updated(
        event["spec"],
        event["execution_id"],
        event["resources"],
        event["task_definition"],
        event["url"],
        event["at"],
    )
