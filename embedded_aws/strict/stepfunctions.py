"""Step Functions limits in moto's interpreter (rules.py: states.*).

moto already fails a task result or a state output over 256 KiB with States.DataLimitExceeded;
added here: a Task state's input after Arguments, StartExecution's input, and the 25,000-event
history of an execution - which, unlike the others, no Catch sees: the execution itself fails.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Final

from embedded_aws.patches import Patches
from embedded_aws.strict import rules

HISTORY_ERROR: Final = "States.Runtime"


def history_cause(limit: int) -> str:
    return f"The execution reached the maximum number of history events ({limit})."


class HistoryLimitReached(Exception):
    """Stops the state being evaluated when the history is full (the execution has failed)."""


class HistoryLimit:
    """The event budget of one execution history. `limit` is the figure from rules.py; tests of
    the mechanism may lower it on a running emulator."""

    def __init__(self, limit: int = rules.HISTORY_EVENTS) -> None:
        self.limit = limit
        self.lock = threading.Lock()


def _size(value: Any) -> int:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return len(text.encode("utf-8"))


def install(patches: Patches, history: HistoryLimit) -> None:
    from moto.stepfunctions.exceptions import ValidationException
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service,
    )
    from moto.stepfunctions.parser.asl.eval import environment as environment_module
    from moto.stepfunctions.parser.asl.eval.event import event_manager
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    environment = environment_module.Environment
    original_init = environment.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        # A frame (Parallel branch, Map iteration) replaces its manager with the execution's:
        # the manager keeps pointing at the execution's own environment.
        self.event_manager._strict_execution = self

    patches.set(environment, "__init__", init)

    original_set_error = environment.set_error

    def set_error(self: Any, error: Any) -> None:
        # Once the history is full, that is the execution's failure, whatever fails after it.
        original_set_error(self, getattr(self, "_strict_history_failure", None) or error)

    patches.set(environment, "set_error", set_error)

    original_add_event = event_manager.EventManager.add_event
    final = HistoryEventType.ExecutionFailed

    def add_event(self: Any, context: Any, event_type: Any, *args: Any, **kwargs: Any) -> int:
        execution = getattr(self, "_strict_execution", None)
        if event_type != final and execution is not None:
            with history.lock:
                # Room is kept for the ExecutionFailed event that ends the history.
                full = len(self._history_event_list) >= history.limit - 1
                failure = getattr(execution, "_strict_history_failure", None)
                if full and failure is None:
                    failure = execution._strict_history_failure = ExecutionFailedEventDetails(
                        error=HISTORY_ERROR, cause=history_cause(history.limit)
                    )
            if full and failure is not None:  # full: the failure was set just above
                execution.set_error(failure)
                raise HistoryLimitReached(failure["cause"])
        return original_add_event(self, context, event_type, *args, **kwargs)

    patches.set(event_manager.EventManager, "add_event", add_event)

    service = state_task_service.StateTaskService
    original_before = service._before_eval_execution

    def before_eval_execution(self: Any, env: Any, *args: Any, **kwargs: Any) -> None:
        parameters = kwargs.get("raw_parameters", args[1] if len(args) > 1 else None)
        if _size(parameters) > rules.STATES_PAYLOAD_BYTES:
            _data_limit_exceeded(env, self, "has an input")
        original_before(self, env, *args, **kwargs)

    patches.set(service, "_before_eval_execution", before_eval_execution)

    original_start = StepFunctionsParserBackend.start_execution

    def start_execution(backend: Any, state_machine_arn: str, *args: Any, **kwargs: Any) -> Any:
        execution_input = kwargs.get("execution_input", args[1] if len(args) > 1 else None)
        if execution_input is not None and len(execution_input) > rules.STATES_PAYLOAD_BYTES:
            raise ValidationException(
                "1 validation error detected: Value at 'input' failed to satisfy constraint: "
                f"Member must have length less than or equal to {rules.STATES_PAYLOAD_BYTES}"
            )
        return original_start(backend, state_machine_arn, *args, **kwargs)

    patches.set(StepFunctionsParserBackend, "start_execution", start_execution)


def _data_limit_exceeded(env: Any, task: Any, what: str) -> None:
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    error = StatesErrorNameType.StatesStatesDataLimitExceeded
    raise FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=error),
            event_type=HistoryEventType.TaskFailed,
            # moto declares EventDetails total, yet fills one key of it, as AWS's events do.
            event_details=EventDetails(  # type: ignore[typeddict-item]
                taskFailedEventDetails=TaskFailedEventDetails(
                    error=error.to_name(),
                    cause=f"The state/task '{task._get_sfn_resource()}' {what} with a size "
                    "exceeding the maximum number of bytes service limit.",
                    resource=task._get_sfn_resource(),
                    resourceType=task._get_sfn_resource_type(),
                )
            ),
        )
    )
