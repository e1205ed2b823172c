"""Logger, Metrics and (opt-in) Tracer, wired once for every step.

- Logger: JSON, correlation id = the Step Functions execution name, so one execution's steps can
  be read together in CloudWatch Logs Insights.
- Metrics: one EMF record per invocation: StepDuration (ms) and StepSucceeded / StepFailed,
  dimension `step`.
- Tracer: Lambda's active tracing already records every invocation. The X-Ray SDK's subsegments
  (boto3 calls) cost ~0.4 s of cold start, so they are opt-in with FARGATE_ENV_TRACE_SDK=true.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, Final, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from fargate_env import bounds, errors, settings

SERVICE: Final = "fargate-env"
NAMESPACE: Final = "FargateEnv"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

Result = TypeVar("Result")
#: A step's handler: (event, Lambda context) -> what the state machine receives.
Handler = Callable[[Any, Any], Result]
#: Where a step's event names its execution (every Task payload carries it: the ASL builder).
CORRELATION_ID_PATH: Final = "execution_name"


def _sdk_tracing_enabled() -> bool:
    return settings.get("FARGATE_ENV_TRACE_SDK", "false").lower() == "true"


@functools.cache
def tracer() -> Any:
    """The Powertools Tracer, created (and aws_xray_sdk imported) only when first asked for."""
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


def _is_sdk_error(exc: BaseException) -> bool:
    return type(exc).__module__.startswith(("botocore", "boto3", "urllib3"))


def remaining_seconds(context: Any) -> float:
    """The invocation's time left (its Lambda context): a step that waits inside bounds it."""
    return float(context.get_remaining_time_in_millis()) / 1000


def throttled_look(throttled: errors.AwsThrottled) -> dict[str, Any]:
    """A bounded wait's look that AWS throttled: it saw nothing, so not ready yet (the loop
    looks again after its interval; its bound still ends it, quoting this summary)."""
    return {"ready": False, "throttled": True, "summary": f"not seen: {throttled}"}


def step(name: str) -> Callable[[Handler[Result]], Handler[Result]]:
    """Decorate a step's handler: Powertools' Lambda context and metrics, SDK errors wrapped into
    our contract.

    Logs carry the Lambda context and the execution's name as correlation id
    (inject_lambda_context); metrics are flushed once per invocation with a ColdStart metric
    (log_metrics). Our own errors pass through untouched (their class names are the ASL
    contract). An SDK error that escaped the library is logged once and re-raised as
    TransientAwsError or AwsThrottled (retryable) or AwsRequestFailed (terminal), with the step
    and the failed operation in the message. A bounded wait's look (bounds.THROTTLED_LOOK_STEPS)
    that AWS throttled answers "not ready" instead (throttled_look).
    """

    def decorate(handler: Handler[Result]) -> Handler[Result]:
        @functools.wraps(handler)
        def measured(event: Any, context: Any) -> Result:
            logger.append_keys(step=name)
            metrics.add_dimension(name="step", value=name)
            started = time.perf_counter()
            outcome = "StepFailed"
            try:
                result: Result
                if _sdk_tracing_enabled():
                    result = tracer().capture_method(handler)(event, context)
                else:
                    result = handler(event, context)
                outcome = "StepSucceeded"
                return result
            except errors.FargateEnvError as exc:
                # The trace stays here, keyed by the execution (the correlation id): the
                # execution's failure carries the message alone (failures.py).
                logger.exception(
                    "step failed", extra={"error": type(exc).__name__, "detail": str(exc)}
                )
                raise
            except Exception as exc:
                if not _is_sdk_error(exc):
                    logger.exception("step failed with an unexpected error")
                    raise
                wrapped = errors.wrap_sdk_error(exc, name)
                if name in bounds.THROTTLED_LOOK_STEPS and isinstance(wrapped, errors.AwsThrottled):
                    logger.warning("look throttled: looking again", extra={"detail": str(wrapped)})
                    outcome = "LookThrottled"
                    # Only the five looks answer this; the ASL reads a look's `ready` and
                    # `summary` alone until it is ready (tools/statemachines: poll).
                    return cast(Result, throttled_look(wrapped))
                logger.warning(
                    "AWS call failed",
                    extra={"error": type(wrapped).__name__, "detail": str(wrapped)},
                )
                raise wrapped from exc
            finally:
                elapsed_ms = (time.perf_counter() - started) * 1000
                metrics.add_metric(
                    name="StepDuration", unit=MetricUnit.Milliseconds, value=elapsed_ms
                )
                metrics.add_metric(name=outcome, unit=MetricUnit.Count, value=1)

        with_context = logger.inject_lambda_context(
            measured, correlation_id_path=CORRELATION_ID_PATH, clear_state=True
        )
        flushed = metrics.log_metrics(with_context, capture_cold_start_metric=True)
        # Powertools prints the cold-start record even with metrics disabled (single_metric
        # ignores the setting): without metrics, no cold-start metric either.
        flushed_quietly = metrics.log_metrics(with_context)

        @functools.wraps(handler)
        def wrapper(event: Any, context: Any) -> Result:
            try:
                flush = flushed_quietly if is_metrics_disabled() else flushed
                result: Result = flush(event, context)  # Powertools' decorators are untyped
                return result
            finally:
                # One invocation's record each time (a disabled flush keeps them otherwise).
                metrics.clear_metrics()

        return wrapper

    return decorate
