"""Lifecycle events on EventBridge, so other systems react to environments.

source "fargate-env", detail-types "Environment Ready" (with the URL), "Environment Failed" (the
failed step and cause), "Environment Updated" (the revision), "Environment Update Failed" (the
failure; the environment still serves its previous revision) and "Environment Deleted" (what
was deleted) and "Reconcile Report" (what the reaper found and did, reconcile.py); every
detail names the
`deployment` (stack) that published it.
"""

from __future__ import annotations

import json
from typing import Any, Final

from fargate_env import naming, settings
from fargate_env.aws import client
from fargate_env.errors import TransientAwsError

SOURCE: Final = "fargate-env"
BUS_ENV: Final = "EVENT_BUS_NAME"
READY: Final = "Environment Ready"
FAILED: Final = "Environment Failed"
DELETED: Final = "Environment Deleted"
CREATE_REQUESTED: Final = "Environment Create Requested"
TEARDOWN_REQUESTED: Final = "Environment Teardown Requested"
UPDATE_REQUESTED: Final = "Environment Update Requested"
UPDATED: Final = "Environment Updated"
UPDATE_FAILED: Final = "Environment Update Failed"
RECONCILE_REPORT: Final = "Reconcile Report"


def publish(detail_type: str, detail: dict[str, Any]) -> None:
    """Put one lifecycle event on the deployment's bus, naming the deployment (the stack), as
    the requests it answers do."""
    response = client("events").put_events(
        Entries=[
            {
                "Source": SOURCE,
                "DetailType": detail_type,
                "Detail": json.dumps({**detail, "deployment": naming.deployment()}),
                "EventBusName": settings.get(BUS_ENV, "default"),
            }
        ]
    )
    if response.get("FailedEntryCount"):
        raise TransientAwsError(
            f"PutEvents rejected the {detail_type!r} event: {response['Entries']}"
        )
