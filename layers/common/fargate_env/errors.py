"""The error contract with the state machines.

A Lambda error reaches Step Functions as the exception's class name, and the ASL's Retry / Catch
match that name exactly. So the set is small, flat and stable:

retryable  TransientAwsError   throttling or a 5xx that survived boto3's own retries
not ready  ResourceNotReady    a polled condition is not met yet (retried on exactly this name)
terminal   everything else     retrying cannot fix it; the execution rolls back

InvalidRequest and InvalidSpec (a kind of it) are raised before any work: nothing to roll back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, TypeVar

from fargate_env.payloads import Deleted


class FargateEnvError(Exception):
    """Base class. `retryable` tells humans and tests which side of the contract an error is on."""

    retryable: bool = False


class TransientAwsError(FargateEnvError):
    """An AWS call kept failing with a server error after boto3's own retries."""

    retryable = True


class AwsThrottled(TransientAwsError):
    """AWS kept throttling a call after boto3's own retries: the account's API rate for it is
    spent (many environments at once). Retried longer than other transient errors, with
    jittered pauses (bounds.THROTTLING_RETRY), so the bucket refills meanwhile."""


class ResourceNotReady(FargateEnvError):
    """A polled condition does not hold yet (e.g. a security group still in use by an ENI)."""

    retryable = True


class InvalidRequest(FargateEnvError):
    """An execution's input is invalid (its shape, the teardown's name, the request's time):
    the message names the field, and nothing was done."""


class InvalidSpec(InvalidRequest):
    """The environment spec is invalid; the message names every bad field."""


class ResourceConflict(FargateEnvError):
    """A resource with our name exists but belongs to someone else (no environment tag of ours)."""


class ServiceUnstable(FargateEnvError):
    """The ECS service cannot become stable: its tasks keep stopping (reasons in the message)."""


class EndpointCheckFailed(FargateEnvError):
    """The load balancer's DNS name did not answer with an acceptable HTTP status."""


class OneOffTaskFailed(FargateEnvError):
    """A one-off task (the pre-traffic command) exited with another code than 0, or did not
    finish in time: the message has the tail of its logs."""


class EnvironmentBusy(FargateEnvError):
    """Another execution owns this environment name (it is being created, is ready or deleting)."""


class InfrastructureChange(InvalidRequest):
    """An update asks for what needs other infrastructure (update.py): refused, nothing changed."""


class DeploymentRolledBack(FargateEnvError):
    """ECS's deployment circuit breaker put the service back on its previous revision."""


class AwsRequestFailed(FargateEnvError):
    """An AWS call failed with an error retrying cannot fix (access denied, quota, bad request)."""


class EnvironmentNotFound(FargateEnvError):
    """No environment of that name is in the registry (asked for by a tool, not a state)."""


def invalid_spec(problems: list[str]) -> InvalidSpec:
    """One InvalidSpec listing every problem, each starting with its field's path."""
    count = len(problems)
    return InvalidSpec(
        f"invalid environment spec ({count} problem{'s' if count != 1 else ''}): "
        + "; ".join(problems)
    )


#: The names the ASL retries with back-off on every Task (besides the Lambda service errors).
RETRYABLE_ERROR_NAMES: Final = (TransientAwsError.__name__,)
#: The name the ASL retries longer, with jitter, on every Task but a bounded wait's look.
THROTTLED_ERROR_NAME: Final = AwsThrottled.__name__
#: The name the ASL retries on polling steps that raise when not ready.
NOT_READY_ERROR_NAME: Final = ResourceNotReady.__name__

#: AWS's answers for "the API rate is spent" (the codes botocore's standard retry mode treats
#: as throttling).
_THROTTLING_CODES: Final = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "PriorRequestNotComplete",
    }
)
#: AWS's answers for a failure on its side, worth a retry.
_SERVER_ERROR_CODES: Final = frozenset(
    {
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "InternalServiceError",
        "ServerException",
    }
)


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError ("" for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


Answer = TypeVar("Answer")


def or_none_on(codes: tuple[str, ...], call: Callable[[], Answer]) -> Answer | None:
    """`call()`, or None when AWS answers with one of `codes` (what was asked for is not there,
    or, for a create, is there already); any other error goes on."""
    try:
        return call()
    except Exception as exc:
        if error_code(exc) in codes:
            return None
        raise


def delete_found(name: str | None, not_found: str, delete: Callable[[str], object]) -> Deleted:
    """Delete what a find returned (None: nothing of ours to delete). Gone meanwhile
    (`not_found`) is deleted too, by someone else: it is not counted."""
    if name is None:
        return {"deleted": []}
    answer = or_none_on((not_found,), lambda: delete(name))
    return {"deleted": [] if answer is None else [name]}


def is_throttling(exc: BaseException) -> bool:
    return error_code(exc) in _THROTTLING_CODES


def is_transient(exc: BaseException) -> bool:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        code = error_code(exc)
        return code in _THROTTLING_CODES or code in _SERVER_ERROR_CODES or int(status or 0) >= 500
    # botocore's connection-level failures (EndpointConnectionError, timeouts) carry no response.
    return type(exc).__module__.startswith(("botocore", "urllib3")) and (
        "Connection" in type(exc).__name__ or "Timeout" in type(exc).__name__
    )


def wrap_sdk_error(exc: BaseException, step: str) -> FargateEnvError:
    """Turn an SDK error that escaped a step into our contract, once, with context."""
    operation = getattr(exc, "operation_name", None) or type(exc).__name__
    code = error_code(exc)
    detail = str(exc)
    message = f"{step}: {operation} failed" + (f" ({code})" if code else "") + f": {detail}"
    if is_throttling(exc):
        return AwsThrottled(message)
    if is_transient(exc):
        return TransientAwsError(message)
    return AwsRequestFailed(message)
