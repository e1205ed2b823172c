"""The one shape of a failure. Every failed execution of every machine (its Fail state's Cause,
as JSON) and every "Environment Failed" event says the same six things, in words:

    environment   the environment's name (null when the input named none)
    failed_step   the state that failed
    error         the error's name (what the machines' Retry and Catch match)
    message       what went wrong, for a person: the error's message, never a stack trace,
                  a file path or a JSON document quoted inside the JSON
    resources     what happened to the environment's resources
    next          what to do now

The Lambda steps that end a failure build it here (`shape`, `of_provisioning`); the state
machine builder writes the same shape in JSONata (tools/statemachines/asl.py `failure`) with
the texts below, for the failures no Lambda step reports. Stack traces go to the logs
(observability.step), keyed by the execution.
"""

from __future__ import annotations

import json
from typing import Any, Final

from fargate_env.payloads import NormalisedSpec

KEYS: Final = ("environment", "failed_step", "error", "message", "resources", "next")
#: Step Functions' own error names begin with it; a state may not report one as its own (the
#: Amazon States Language specification, "Errors"), so a failed execution's error is the
#: failure's without it (States.Timeout -> Timeout).
RESERVED_ERROR_PREFIX: Final = "States."
#: The longest message kept (characters). A Fail state's Cause holds at most 32,768 characters
#: (Step Functions API reference, ExecutionFailedEventDetails); a person reads far fewer.
MESSAGE_MAX_CHARACTERS: Final = 2000

# What happened to the resources -------------------------------------------------------------
NONE_CREATED: Final = "none created"
NONE_DELETED: Final = "none deleted"
NOTHING_WAS_CHANGED: Final = "nothing changed: the environment serves as before"
PARTLY_DELETED: Final = "partly deleted: what is left stays until the teardown runs again"
RETAINED: Final = "retained for inspection (on_failure: retain)"
ROLLED_BACK: Final = "rolled back"
ROLLBACK_FAILED: Final = "rollback failed: what it could not delete is still there"

# What to do next ({name}: the environment) --------------------------------------------------
FIX_THE_INPUT: Final = "Fix what the message names, then start the provisioning again."
NOTHING_CHANGED: Final = (
    "Nothing was changed: do what the message says, then start the provisioning again."
)
FIX_AND_RETRY: Final = "Fix the cause, then start the provisioning again."
RESUME_OR_CLEAN_UP: Final = (
    "Resume: start a new provisioning with the same input (every step adopts what exists). "
    "Clean up: start the teardown of {name}."
)
CLEAN_UP_AFTER_ROLLBACK: Final = (
    "Start the teardown of {name}: it removes what the rollback left, then create it again."
)
RUN_TEARDOWN_AGAIN: Final = "Run the teardown again: it resumes from what is left."
FIX_THE_UPDATE_INPUT: Final = "Fix what the message names, then start the update again."
UPDATE_NOTHING_CHANGED: Final = (
    "Nothing was changed: do what the message says, then start the update again."
)
#: The reconcile (reconcile.py): what it left, and what to do.
RECONCILE_NOTHING_STARTED: Final = "nothing started or changed"
RECONCILE_PARTLY_STARTED: Final = (
    "the teardowns started before the failure run on; nothing else changed"
)
FIX_THE_RECONCILE_INPUT: Final = (
    "Start the reconcile with an empty object, or with dry_run true: it takes no other field."
)
RUN_RECONCILE_AGAIN: Final = (
    "Start the reconcile again: it leaves alone the teardowns already running."
)
FIX_THE_TEARDOWN_INPUT: Final = (
    "Start the teardown with an object whose name field is the environment's name."
)

# The gateways machine (shared mode's maintenance: no environment of its own) -----------------
GATEWAYS_AS_RECORDED: Final = (
    "gateways stay as the registry records them: made ones READY, those being made CREATING, "
    "those being removed DRAINING (no environment is placed on them)"
)
GATEWAYS_NEXT_RUN: Final = (
    "The next scheduled run resumes: it finishes the gateways left CREATING and removes those "
    "left DRAINING. Fix the cause the message names if it recurs."
)


def one_line(text: str) -> str:
    """`text` on one line, at most MESSAGE_MAX_CHARACTERS (as JSONata's $trim and $substring
    make it in the builder's copy)."""
    return " ".join(text.split())[:MESSAGE_MAX_CHARACTERS]


def message_of(cause: Any, fallback: str = "") -> str:
    """The human message inside a cause: a Lambda error's errorMessage (its stackTrace left to
    the logs), another failure's message, or the cause itself when it is plain text."""
    text = cause if isinstance(cause, str) else ""
    parsed = _json_object(text) if text.startswith("{") else {}
    found = parsed.get("errorMessage") or parsed.get("message")
    return one_line(found if isinstance(found, str) else text) or fallback


def execution_error(error: str) -> str:
    """The error a failed execution reports for a failure's `error`."""
    return error.removeprefix(RESERVED_ERROR_PREFIX)


def shape(
    environment: str | None,
    failed_step: str,
    error: str,
    message: str,
    resources: str,
    next_step: str,
) -> dict[str, Any]:
    """A failure in the one shape (KEYS, in that order)."""
    values = (environment, failed_step, error, one_line(message), resources, next_step)
    return dict(zip(KEYS, values, strict=True))


def _deleted_summary(deleted: dict[str, Any]) -> str:
    kinds = [kind.replace("_", " ") for kind, items in deleted.items() if items]
    return f" ({', '.join(kinds)})" if kinds else ""


def rollback_outcome(rollback: dict[str, Any] | None) -> str:
    """What the rollback (the nested teardown) did, in words."""
    if not rollback:
        return ROLLED_BACK
    if rollback.get("status") == "SUCCEEDED":
        count = rollback.get("deleted_count") or 0
        return f"{ROLLED_BACK}: {count} deleted{_deleted_summary(rollback.get('deleted') or {})}"
    error, cause = rollback.get("error"), rollback.get("cause")
    child = _json_object(cause)
    if "Cause" in child:
        # The nested execution failed (States.TaskFailed): its description, with its own
        # Error and Cause (the teardown's failure, in this shape).
        error, cause = child.get("Error") or error, child.get("Cause")
    step = _json_object(cause).get("failed_step")
    where = f" at {step!r}" if isinstance(step, str) else ""
    error = str(error or "an unknown error")
    why = message_of(cause, fallback=error)
    return f"rollback failed{where} ({error}: {why}): what it could not delete is still there"


def _json_object(text: Any) -> dict[str, Any]:
    """`text` parsed, when it is a JSON object ({} otherwise)."""
    try:
        parsed = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def of_provisioning(
    spec: NormalisedSpec, failure: dict[str, Any], rollback: dict[str, Any] | None
) -> dict[str, Any]:
    """A provisioning that failed after its claim: the failure as its Catch recorded it (the
    builder's shape), with what happened to the resources and what to do next filled in."""
    name = spec["name"]
    if spec.get("on_failure") == "retain":
        resources, next_step = RETAINED, RESUME_OR_CLEAN_UP.format(name=name)
    elif rollback and rollback.get("status") != "SUCCEEDED":
        resources, next_step = rollback_outcome(rollback), CLEAN_UP_AFTER_ROLLBACK.format(name=name)
    else:
        resources, next_step = rollback_outcome(rollback), FIX_AND_RETRY
    return shape(
        name,
        str(failure.get("failed_step")),
        str(failure.get("error") or "ProvisioningFailed"),
        message_of(failure.get("message"), fallback=str(failure.get("error") or "")),
        resources,
        next_step,
    )
