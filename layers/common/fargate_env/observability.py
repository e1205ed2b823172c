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
from typing import Any, Final, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from fargate_env import errors, settings

SERVICE: Final = "fargate-env"
NAMESPACE: Final = "FargateEnv"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

Handler = TypeVar("Handler", bound=Callable[..., Any])


def _sdk_tracing_enabled() -> bool:
    return settings.get("FARGATE_ENV_TRACE_SDK", "false").lower() == "true"


@functools.cache
def tracer() -> Any:
    """The Powertools Tracer, created (and aws_xray_sdk imported) only when first asked for."""
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


def _correlation_id(event: Any) -> str | None:
    if isinstance(event, dict):
        value = event.get("execution")
        return str(value) if value else None
    return None


def _is_sdk_error(exc: BaseException) -> bool:
    return type(exc).__module__.startswith(("botocore", "boto3", "urllib3"))


def step(name: str) -> Callable[[Handler], Handler]:
    """Decorate a step's handler: logging context, metrics, SDK errors wrapped into our contract.

    Our own errors pass through untouched (their class names are the ASL contract). An SDK error
    that escaped the library is logged once and re-raised as TransientAwsError (retryable) or
    AwsRequestFailed (terminal), with the step and the failed operation in the message.
    """

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def wrapper(event: Any, context: Any) -> Any:
            logger.append_keys(step=name)
            correlation_id = _correlation_id(event)
            if correlation_id:
                logger.set_correlation_id(correlation_id)
            if context is not None and hasattr(context, "function_name"):
                logger.append_keys(function_name=context.function_name)
            metrics.add_dimension(name="step", value=name)
            started = time.perf_counter()
            outcome = "StepFailed"
            try:
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
                metrics.flush_metrics()
                # One invocation's record each time (a disabled flush keeps them otherwise).
                metrics.clear_metrics()
                logger.remove_keys(["step", "function_name"])

        return wrapper  # type: ignore[return-value]

    return decorate
