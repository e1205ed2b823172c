"""How a rule attaches to moto: a guard runs before a backend method, with the method's arguments
by name, and refuses by raising a moto ServiceException. moto serialises that in the service's own
protocol (query XML for ELBv2/EC2/IAM, JSON for ECS/Logs/Scheduler), so boto3 raises the
ClientError AWS would, with AWS's error code."""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

from moto.core.exceptions import ServiceException

from embedded_aws.patches import Patches

Check = Callable[[Any, dict[str, Any]], None]

_request = threading.local()


class Refusal(ServiceException):
    """An AWS error answer. Defined outside moto's packages on purpose: moto serialises it with
    the model of the service answering (one defined in a moto package is looked up there)."""


def refuse(code: str, message: str) -> NoReturn:
    raise Refusal(code, message)


def validation_message(value: object, member: str, constraint: str) -> str:
    """AWS's wording for a request member that breaks its API model."""
    return (
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: {constraint}"
    )


def requested_service() -> str | None:
    """The service whose API request the calling thread is answering (None: moto internals,
    such as CloudFormation creating a stack's resources)."""
    return getattr(_request, "service", None)


@contextlib.contextmanager
def answering(service: str | None) -> Iterator[None]:
    previous = requested_service()
    _request.service = service
    try:
        yield
    finally:
        _request.service = previous


def track_requests(patches: Patches) -> None:
    """Remember which service's API each thread is answering (see requested_service)."""
    from moto.core.responses import BaseResponse

    original = BaseResponse.call_action

    def call_action(response: Any) -> Any:
        with answering(str(getattr(response, "service_name", "") or "") or None):
            return original(response)

    patches.set(BaseResponse, "call_action", call_action)


def guard(patches: Patches, owner: type, name: str, check: Check) -> None:
    """Run `check(backend, arguments)` before `owner.name`; it refuses by raising."""
    original = getattr(owner, name)
    signature = inspect.signature(original)

    @functools.wraps(original)
    def guarded(backend: Any, *args: Any, **kwargs: Any) -> Any:
        call = signature.bind(backend, *args, **kwargs)
        call.apply_defaults()
        arguments = dict(call.arguments)
        arguments.update(arguments.pop("kwargs", {}) or {})
        check(backend, arguments)
        return original(backend, *args, **kwargs)

    patches.set(owner, name, guarded)
