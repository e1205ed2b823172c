"""Lambda invocations, served by the real handler modules in-process.

Each function's handler is loaded from its CodeUri with the shared layer on the path, runs with
that function's environment variables, and answers the way the Lambda service does: the JSON
result, or (x-amz-function-error: Unhandled) {"errorType": <exception class name>, ...}, which
is what Retry and Catch match on. Lambda's own limits (Timeout, MemorySize, payload sizes) answer
as Lambda does too (strict/lambdas.py).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import sys
import threading
import traceback
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from aws_lambda_powertools.warnings import PowertoolsUserWarning

from embedded_aws.clock import Clock
from embedded_aws.faults import Faults
from embedded_aws.latency import LatencyModel
from embedded_aws.strict import lambdas as limits
from embedded_aws.template import FunctionInfo


@dataclass
class FakeContext:
    """The parts of Lambda's context object handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    invoked_function_arn: str = ""
    aws_request_id: str = ""
    log_group_name: str = ""
    log_stream_name: str = ""
    timeout_seconds: float = 30.0
    #: Simulated seconds the invocation has run so far.
    elapsed: Callable[[], float] = lambda: 0.0

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - self.elapsed()) * 1000))


class LambdaRunner:
    """Runs handlers for moto's Lambda backend."""

    def __init__(
        self,
        catalog: dict[str, FunctionInfo],
        layer_dirs: list[Path],
        clock: Clock,
        model: LatencyModel,
        faults: Faults,
    ) -> None:
        self.catalog = catalog  # logical id -> function
        self.clock = clock
        self.model = model
        self.faults = faults
        self.physical_names: dict[str, str] = {}  # deployed function name -> logical id
        self.invocations: Counter[str] = Counter()
        #: Trace memory on every invocation, not only on each function's first warm one
        #: (tracing allocations makes an invocation several times slower: strict/lambdas.py).
        self.memory_every_invocation = False
        self.api_calls: Counter[str] = Counter()
        self._modules: dict[str, ModuleType] = {}
        # Handlers share one process environment: one invocation at a time keeps each
        # function's variables its own (simulated time still overlaps: it is per thread).
        self._lock = threading.RLock()
        self._local = threading.local()
        for layer in layer_dirs:
            if str(layer) not in sys.path:
                sys.path.insert(0, str(layer))

    @contextlib.contextmanager
    def acting_as(self, step: str) -> Iterator[None]:
        """Calls made inside are charged like a step's (API latency, counters): used by
        orchestrations that call the library directly, such as the benchmark's baselines."""
        previous = getattr(self._local, "step", None)
        self._local.step = step
        try:
            yield
        finally:
            self._local.step = previous

    def in_handler(self) -> str | None:
        """The step whose handler the calling thread is running (None outside handlers)."""
        return getattr(self._local, "step", None)

    def running_function(self) -> Any:
        """The moto function whose handler the calling thread runs (None outside handlers)."""
        return getattr(self._local, "function", None)

    def step_of(self, logical_id: str) -> str:
        return self.catalog[logical_id].code_dir.name

    def _handler(self, info: FunctionInfo) -> Callable[[Any, Any], Any]:
        module = self._modules.get(info.logical_id)
        if module is None:
            name = f"fargate_env_functions.{info.code_dir.name}"
            spec = importlib.util.spec_from_file_location(name, info.module_file)
            if spec is None or spec.loader is None:
                raise RuntimeError(f"cannot load {info.module_file}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self._modules[info.logical_id] = module
        handler: Callable[..., Any] = getattr(module, info.handler_name)
        return handler

    def invoke(self, function: Any, body: Any, response_headers: dict[str, Any]) -> bytes:
        logical_id = self.physical_names.get(function.function_name)
        if logical_id is None:
            raise RuntimeError(f"no handler known for function {function.function_name}")
        limits.check_request(body)
        info = self.catalog[logical_id]
        step = self.step_of(logical_id)
        event = json.loads(body) if body else {}
        # Outside the lock, so other executions' steps run while this one is held.
        self.faults.hold(step)
        with self._lock:
            cold = step not in self.invocations
            self.invocations[step] += 1
            self.clock.advance(
                self.model.lambda_invoke + (self.model.lambda_cold_start if cold else 0)
            )
            variables = {k: str(v) for k, v in (function.environment_vars or {}).items()}
            # Only the function's own variables are undone afterwards: a client thread (fenv
            # following an execution) may set others meanwhile, and they must survive.
            saved = {key: os.environ.get(key) for key in variables}
            os.environ.update(variables)
            # A handler may invoke another function (verify_endpoint its probe): the caller's
            # step and function resume when the callee returns.
            caller = (getattr(self._local, "step", None), getattr(self._local, "function", None))
            self._local.step, self._local.function = step, function
            request_id = str(uuid.uuid4())
            started = self.clock.now()
            try:
                handler = self._handler(info)  # imported outside the traced invocation
                # tracemalloc is process-wide: a nested invocation is not measured on its own
                # (stopping its trace would end the caller's).
                measured = caller[0] is None and (
                    self.memory_every_invocation or self.invocations[step] == 2
                )
                with limits.allocations(measured) as peak, warnings.catch_warnings():
                    if caller[0] is not None:
                        # On AWS the callee runs in its own process; here it shares the caller's
                        # Powertools metrics, which warn of the step dimension set twice.
                        warnings.simplefilter("ignore", PowertoolsUserWarning)
                    result = self._run(handler, info, function, event, request_id, started)
                refused = limits.timed_out(
                    request_id, info.timeout, self.clock.now() - started
                ) or limits.out_of_memory(request_id, info.memory_size, peak.bytes)
                if refused is None:
                    injected = self.faults.step_fault(step, "after")
                    if injected is not None:
                        raise injected
                    answer = json.dumps(result).encode()
                    refused = limits.response_too_large(answer)
                    if refused is None:
                        return answer
                response_headers["x-amz-function-error"] = "Unhandled"
                return json.dumps(refused).encode()
            except Exception as exc:  # the Lambda runtime reports every uncaught exception
                response_headers["x-amz-function-error"] = "Unhandled"
                payload = {
                    "errorType": type(exc).__name__,
                    "errorMessage": str(exc),
                    "requestId": request_id,
                    "stackTrace": traceback.format_exception(exc)[-3:],
                }
                return json.dumps(payload).encode()
            finally:
                self._local.step, self._local.function = caller
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value

    def _run(
        self,
        handler: Callable[[Any, Any], Any],
        info: FunctionInfo,
        function: Any,
        event: Any,
        request_id: str,
        started: float,
    ) -> Any:
        """The handler's answer; a slow step then takes its extra simulated time."""
        step = self.step_of(info.logical_id)
        injected = self.faults.step_fault(step, "before")
        if injected is not None:
            raise injected
        context = FakeContext(
            function_name=function.function_name,
            memory_limit_in_mb=info.memory_size,
            invoked_function_arn=function.function_arn,
            aws_request_id=request_id,
            timeout_seconds=float(info.timeout),
            elapsed=lambda: self.clock.now() - started,
        )
        result = handler(event, context)
        self.clock.advance(self.faults.slow_steps.get(step, 0.0))
        return result
