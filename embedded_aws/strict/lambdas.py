"""Lambda's per-invocation limits, as the Invoke API answers them (rules.py: lambda.*).

The emulator runs each handler in-process on the simulated clock. An invocation whose simulated
duration passes the function's Timeout, or whose allocations pass its MemorySize, answers as
Lambda does: an Unhandled function error with Lambda's own errorType, which Step Functions
reports under that name (a Retry on Lambda.* transient errors does not match it).

The handler has run to its end by then (its AWS calls happened): on AWS a timed-out function may
have done any part of its work, and "all of it, but no answer" is the case compensation must
handle. Memory is a proxy: the peak of the Python allocations the invocation made (tracemalloc),
including moto's in-process answers to its AWS calls; the runtime's own baseline is not counted.
Tracing allocations makes Python several times slower while it runs (three provision + teardown
runs: 5-8 s untraced, 21-30 s tracing every cold start, 13-15 s tracing each function's first
warm invocation), so the runner measures each function's first warm invocation - the steady
state, without the one-off imports - unless told to measure every invocation.
"""

from __future__ import annotations

import contextlib
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from embedded_aws.strict import rules

TIMED_OUT: Final = "Sandbox.Timedout"
OUT_OF_MEMORY: Final = "Runtime.OutOfMemory"
RESPONSE_TOO_LARGE: Final = "Function.ResponseSizeTooLarge"
MIB: Final = 1024 * 1024


def check_request(body: bytes | str | None) -> None:
    """A synchronous invocation's request over 6 MB is refused before the function runs."""
    size = len(body.encode() if isinstance(body, str) else body or b"")
    if size > rules.LAMBDA_SYNC_PAYLOAD_BYTES:
        from moto.core.exceptions import JsonRESTError

        refused = JsonRESTError(
            "RequestTooLargeException",
            f"Request must be smaller than {rules.LAMBDA_SYNC_PAYLOAD_BYTES} bytes for the "
            "InvokeFunction operation",
        )
        refused.code = 413
        raise refused


def _error(error_type: str, message: str) -> dict[str, Any]:
    return {"errorType": error_type, "errorMessage": message}


def timed_out(request_id: str, timeout: float, duration: float) -> dict[str, Any] | None:
    if duration <= timeout:
        return None
    message = f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds"
    return _error(TIMED_OUT, message)


def out_of_memory(request_id: str, memory_mb: int, peak_bytes: int) -> dict[str, Any] | None:
    if peak_bytes <= memory_mb * MIB:
        return None
    return _error(
        OUT_OF_MEMORY, f"RequestId: {request_id} Error: Runtime exited with error: signal: killed"
    )


def response_too_large(payload: bytes) -> dict[str, Any] | None:
    if len(payload) <= rules.LAMBDA_SYNC_PAYLOAD_BYTES:
        return None
    return _error(
        RESPONSE_TOO_LARGE,
        "Response payload size exceeded maximum allowed payload size "
        f"({rules.LAMBDA_RESPONSE_LIMIT_IN_MESSAGE} bytes).",
    )


@dataclass
class Peak:
    bytes: int = 0


@contextlib.contextmanager
def allocations(measured: bool = True) -> Iterator[Peak]:
    """The peak of the Python allocations made inside (callers hold the invocation lock);
    0 when not `measured`."""
    peak = Peak()
    if not measured:
        yield peak
        return
    already = tracemalloc.is_tracing()
    if already:
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
    else:
        baseline = 0
        tracemalloc.start()
    try:
        yield peak
    finally:
        peak.bytes = max(0, tracemalloc.get_traced_memory()[1] - baseline)
        if not already:
            tracemalloc.stop()
