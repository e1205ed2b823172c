"""The plugs that make moto's Step Functions interpreter run our real ASL. Each is a patch of a
moto internal, which is why moto and jsonata-python are pinned exactly.

- JSONata: moto leaves its evaluator hook empty; jsonata-python fills it. Definitions whose
  JSONata does not compile are refused at CreateStateMachine, as AWS does (asl_validation.py).
- Variables: moto writes string variables into JSONata source unescaped; a quote or newline in
  a value (an error's cause) breaks the expression. They are written as JSON strings instead.
- Time: Wait states, Retry back-off and history timestamps follow the emulator's clock; the
  context object's Execution.StartTime is ISO 8601 text, as on AWS.
- Lambda: invocations run the real handler in-process (lambdas.py).
- Nested executions: SDK parameter and response casing, as Step Functions does it.
- EventBridge TestEventPattern: answered with moto's own pattern matcher.
- KMS ScheduleKeyDeletion: a key ARN is accepted, as AWS does.
- EventBridge rules targeting a state machine: delivered by eventbridge.py, events stamped with
  the simulated time.
- Parsing: moto parses a definition with ANTLR at CreateStateMachine and again at every
  StartExecution (about a second for the provision machine). A definition is parsed once; the
  program it gives is reused, which is safe because moto's components keep their per-execution
  state in the execution's environment (keyed by each component's heap_key), never in themselves.
"""

from __future__ import annotations

import copy
import datetime as _datetime
import json
import random
import sys
import threading
import time
import types
from collections.abc import Callable
from typing import Any, Final

from embedded_aws import asl_validation
from embedded_aws.clock import Clock
from embedded_aws.remembered import Remembered

_jitter = random.Random(7)


def reseed(seed: int) -> None:
    """Restart the Retry jitter sequence."""
    _jitter.seed(seed)


class CompiledJsonata:
    """Compiled JSONata expressions, lent to one thread at a time but to any thread.

    A compiled expression keeps per-call state on itself (jsonata-python), so two threads never
    evaluate one instance at once; and every execution runs on new threads, so a cache per
    thread compiled everything again for every execution (a twentieth of a flow test's CPU).
    Idle instances are kept for at most `limit` expressions: moto's own path writes variable
    values into the source, so its expressions do not all repeat.
    """

    def __init__(self, *, convert_nulls: bool = True, limit: int = 4096) -> None:
        import jsonata

        self._jsonata = jsonata
        self._convert_nulls = convert_nulls
        self._limit = limit
        self._idle: dict[str, list[Any]] = {}
        self._lock = threading.Lock()

    def evaluate(self, expression: str, bindings: dict[str, Any] | None = None) -> Any:
        jsonata = self._jsonata
        with self._lock:
            free = self._idle.get(expression)
            instance = free.pop() if free else None
        if instance is None:
            instance = jsonata.Jsonata(expression)
            if not self._convert_nulls:
                instance.set_output_convert_nulls(False)
        # Higher-order functions ($map, $filter) apply through the thread's current instance:
        # this one, as if it had just been compiled on this thread.
        jsonata.Jsonata.CURRENT.jsonata = instance
        try:
            return instance.evaluate(None, bindings)
        finally:
            with self._lock:
                if expression in self._idle or len(self._idle) < self._limit:
                    self._idle.setdefault(expression, []).append(instance)


def _jsonata_evaluator() -> Callable[[str], Any]:
    """moto's hook for the expressions it evaluates itself (those with Step Functions' own
    functions, see _fast_jsonata_eval_body)."""
    return CompiledJsonata().evaluate


_INTRINSIC_FUNCTIONS = frozenset(
    {"$partition", "$range", "$hash", "$randomSeeded", "$uuid", "$parse"}
)


def _fast_jsonata_eval_body(original: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """Evaluate a state's JSONata expression with its variables passed as bindings.

    moto writes every variable of the scope into the expression's source text and parses it all
    for each evaluation (plus once more to type-check a string result); passing the referenced
    variables as bindings gives the same result at a fraction of the cost. Expressions that use
    Step Functions' own functions ($partition, $parse, ...) keep moto's path.
    """
    from jsonata import utils
    from moto.stepfunctions.parser.asl.jsonata.jsonata import (
        extract_jsonata_variable_references,
    )
    from moto.stepfunctions.parser.asl.jsonata.validations import (
        validate_jsonata_expression_output,
    )

    compiled = CompiledJsonata(convert_nulls=False)

    def to_jsonata(value: Any) -> Any:
        if value is None:
            return utils.Utils.NULL_VALUE
        if isinstance(value, dict):
            return {key: to_jsonata(item) for key, item in value.items()}
        if isinstance(value, list):
            return [to_jsonata(item) for item in value]
        return value

    def eval_body(self: Any, env: Any) -> None:
        references = extract_jsonata_variable_references(self.expression)
        if references & _INTRINSIC_FUNCTIONS:
            original(self, env)
            return
        bindings: dict[str, Any] = {}
        for reference in references:
            root = reference[1:].split(".", 1)[0]
            if root in bindings:
                continue
            if root == "states":
                bindings[root] = to_jsonata(dict(env.states._states_data))
                continue
            try:
                bindings[root] = to_jsonata(env.variable_store.get(root))
            except Exception:
                continue  # unknown variable: undefined, as in moto's text form
        result = compiled.evaluate(self.expression, bindings)
        if result is None:  # undefined: moto's own check reports it (QueryEvaluationError)
            # moto types the result str, yet checks it for None (its null-output refusal).
            validate_jsonata_expression_output(env, self.expression, "undefined", None)  # type: ignore[arg-type]
        env.stack.append(copy.deepcopy(utils.Utils.convert_nulls(result)))

    return eval_body


def _cached_client_factory(original: Callable[..., Any]) -> Callable[..., Any]:
    """moto's interpreter builds a new boto3 client for every Task (tens of ms each); clients are
    thread-safe, so one per region and service serves every state."""
    lock = threading.Lock()
    clients: dict[tuple[Any, ...], Any] = {}

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        from moto.core.models import botocore_stubber
        from moto.settings import moto_server_port

        key = (region, service, botocore_stubber.enabled, moto_server_port())
        with lock:
            client = clients.get(key)
            if client is None:
                client = clients[key] = original(region, service, state_credentials)
        return client

    return boto_client_for


_service_models: dict[str, Any] = {}


def _operation_model(service: str, action: str) -> Any:
    import botocore.session
    from botocore import xform_name

    model = _service_models.get(service)
    if model is None:
        model = _service_models[service] = botocore.session.get_session().get_service_model(service)
    for name in model.operation_names:
        if xform_name(name) == action:
            return model.operation_model(name)
    return None


def _to_request_casing(value: Any, shape: Any) -> Any:
    """ASL writes SDK parameters in the state language's PascalCase (StateMachineArn); botocore
    wants the API's own member names (stateMachineArn): match them case-insensitively."""
    if shape is None:
        return value
    if shape.type_name == "structure" and isinstance(value, dict):
        members = {name.lower(): name for name in shape.members}
        result = {}
        for key, item in value.items():
            member = members.get(key.lower(), key)
            result[member] = _to_request_casing(item, shape.members.get(member))
        return result
    if shape.type_name == "list" and isinstance(value, list):
        return [_to_request_casing(item, shape.member) for item in value]
    return value


def _to_response_casing(value: Any, shape: Any) -> Any:
    """The state language sees SDK responses in PascalCase, dates as epoch milliseconds."""
    if isinstance(value, _datetime.datetime):
        return int(value.timestamp() * 1000)
    if shape is None:
        return value
    if shape.type_name == "structure" and isinstance(value, dict):
        return {
            key[:1].upper() + key[1:]: _to_response_casing(item, shape.members.get(key))
            for key, item in value.items()
            if key != "ResponseMetadata"
        }
    if shape.type_name == "list" and isinstance(value, list):
        return [_to_response_casing(item, shape.member) for item in value]
    return value


def _sdk_casing(service_class: Any) -> tuple[Callable[..., None], Callable[..., None]]:
    original_parameters = service_class._normalise_parameters

    def normalise_parameters(
        self: Any,
        parameters: dict[str, Any],
        boto_service_name: Any = None,
        service_action_name: Any = None,
    ) -> None:
        original_parameters(self, parameters, boto_service_name, service_action_name)
        operation = _operation_model(
            self._get_boto_service_name(boto_service_name),
            self._get_boto_service_action(service_action_name),
        )
        if operation is not None:
            renamed = _to_request_casing(parameters, operation.input_shape)
            parameters.clear()
            parameters.update(renamed)

    def normalise_response(
        self: Any, response: Any, boto_service_name: Any = None, service_action_name: Any = None
    ) -> None:
        if not isinstance(response, dict):
            return
        operation = _operation_model(
            self._get_boto_service_name(boto_service_name),
            self._get_boto_service_action(service_action_name),
        )
        if operation is not None:
            renamed = _to_response_casing(response, operation.output_shape)
            response.clear()
            response.update(renamed)

    return normalise_parameters, normalise_response


def _encode_variable_declarations(bindings: dict[str, Any]) -> str:
    from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

    parts = []
    for reference, value in bindings.items():
        literal = (
            json.dumps(value)
            if isinstance(value, str)
            else to_json_str(value, separators=(",", ":"))
        )
        parts.append(f"{reference}:={literal};")
    return "".join(parts)


def _clock_datetime_module(clock: Clock) -> types.ModuleType:
    """A stand-in for the `datetime` module whose datetime.now() reads the simulated clock."""

    class SimulatedDatetime(_datetime.datetime):
        @classmethod
        def now(cls, tz: _datetime.tzinfo | None = None) -> SimulatedDatetime:
            moment = _datetime.datetime.fromtimestamp(clock.wall(), tz=tz or _datetime.UTC)
            # A plain datetime, as moto's callers use it (typeshed's now() returns Self).
            return moment if tz else moment.replace(tzinfo=None)  # type: ignore[return-value]

    module = types.ModuleType("datetime")
    module.__dict__.update(_datetime.__dict__)
    module.__dict__["datetime"] = SimulatedDatetime
    return module


def aws_timestamp(moment: _datetime.datetime) -> str:
    """A context object timestamp as Step Functions writes it: UTC, milliseconds, a Z."""
    utc = moment.astimezone(_datetime.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _start_time_as_aws(worker: Any) -> Callable[[Any], Any]:
    """$states.context.Execution.StartTime as the ISO 8601 text AWS gives (moto: a datetime),
    e.g. "2026-01-01T00:00:00.650Z" (Step Functions Developer Guide, "Accessing execution
    data from the Context object")."""
    original = worker._get_evaluation_environment

    def evaluation_environment(self: Any) -> Any:
        environment = original(self)
        execution = environment.states.context_object.context_object_data["Execution"]
        if isinstance(execution["StartTime"], _datetime.datetime):
            execution["StartTime"] = aws_timestamp(execution["StartTime"])
        return environment

    return evaluation_environment


#: Wall time between two looks of a `.sync` Task at its child execution.
SYNC_LOOK_SECONDS: Final = 0.02
#: Definition -> (program, parse tree), shared by every embedded AWS of the process: a program
#: holds no account, clock or execution of its own.
_parsed: Remembered[tuple[Any, Any]] = Remembered()


def _parse_once(original: Callable[[str], tuple[Any, Any]]) -> Callable[[str], tuple[Any, Any]]:
    """AmazonStateLanguageParser.parse, remembering each definition's program. A definition that
    does not parse raises every time (nothing is remembered for it)."""

    def parse(definition: str) -> tuple[Any, Any]:
        return _parsed.get(definition, lambda: original(definition))

    return parse


def _sleeping_module(sleep: Callable[[float], None]) -> types.ModuleType:
    module = types.ModuleType("time")
    module.__dict__.update(time.__dict__)
    module.__dict__["sleep"] = sleep
    return module


def install(
    patch: Callable[[Any, str, Any], None],
    clock: Clock,
    invoke: Callable[..., bytes],
    on_state_entered: Callable[[], None],
    jitter_seed: int = 7,
) -> None:
    """Plug moto's interpreter into our clock and handlers, through the emulator's `patch`."""
    import moto.awslambda.models as lambda_models
    import moto.awslambda_simple.models as lambda_simple_models
    import moto.stepfunctions.parser.asl.jsonata.jsonata as jsonata_hook
    from moto.stepfunctions.parser import models as parser_models
    from moto.stepfunctions.parser.asl.component.common.retry import (
        jitter_strategy_decl,
        retrier_decl,
    )
    from moto.stepfunctions.parser.asl.component.state import state as state_module
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (  # noqa: E501
        map_run_record,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_callback as callback,
    )
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function
    from moto.stepfunctions.parser.asl.eval.event import event_manager
    from moto.stepfunctions.parser.backend import execution as execution_module

    patch(jsonata_hook, "_eval_jsonata", _jsonata_evaluator())
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    parse_once = _parse_once(AmazonStateLanguageParser.parse)
    patch(AmazonStateLanguageParser, "parse", staticmethod(parse_once))
    # CreateStateMachine / UpdateStateMachine: every JSONata expression compiles, as on AWS.
    asl_validation.install(patch)
    from moto.stepfunctions.parser.asl.component.common.string import string_expression

    patch(
        string_expression.StringJSONata,
        "_eval_body",
        _fast_jsonata_eval_body(string_expression.StringJSONata._eval_body),
    )
    patch(jsonata_hook, "encode_jsonata_variable_declarations", _encode_variable_declarations)
    from moto.stepfunctions.parser.asl.eval import states as states_module
    from moto.stepfunctions.parser.asl.eval import variable_store

    for module in (states_module, variable_store):
        if hasattr(module, "encode_jsonata_variable_declarations"):
            patch(module, "encode_jsonata_variable_declarations", _encode_variable_declarations)

    from moto.stepfunctions.parser.asl.utils import boto_client

    cached = _cached_client_factory(boto_client.boto_client_for)
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and hasattr(module, "boto_client_for"):
            patch(module, "boto_client_for", cached)

    # Nested executions (arn:aws:states:::states:startExecution.sync:2): SDK casing both ways.
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_sfn,
    )

    sfn_service = state_task_service_sfn.StateTaskServiceSfn
    parameters_hook, response_hook = _sdk_casing(sfn_service)
    patch(sfn_service, "_normalise_parameters", parameters_hook)
    patch(sfn_service, "_normalise_response", response_hook)

    # Time: back-off and Wait states on the simulated clock; history and context timestamps too.
    patch(retrier_decl, "time", _sleeping_module(clock.sleep))
    # Retry jitter from a seeded generator: the same run, the same pauses.
    patch(jitter_strategy_decl, "random", _jitter)
    reseed(jitter_seed)

    def wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
        clock.sleep(wait_seconds)

    patch(wait_function.WaitFunction, "_wait_interval", wait_interval)
    # The .sync integration polls the child execution: a short real pause, no simulated time.
    # Each look is a DescribeExecution through moto; 20 ms apart they cost the child's threads
    # little CPU (2 ms apart, a quarter of it), and the parent goes on within 20 ms of its end.
    patch(callback, "time", _sleeping_module(lambda _seconds: time.sleep(SYNC_LOOK_SECONDS)))
    simulated_datetime = _clock_datetime_module(clock)
    for module in (event_manager, state_module, parser_models, execution_module, map_run_record):
        patch(module, "datetime", simulated_datetime)
    from moto.stepfunctions.parser.backend import execution_worker

    worker = execution_worker.ExecutionWorker
    patch(worker, "_get_evaluation_environment", _start_time_as_aws(worker))

    original_add_event = event_manager.EventManager.add_event

    def add_event(self: Any, context: Any, event_type: Any, *args: Any, **kwargs: Any) -> int:
        if str(getattr(event_type, "value", event_type)).endswith("StateEntered"):
            on_state_entered()
        return original_add_event(self, context, event_type, *args, **kwargs)

    patch(event_manager.EventManager, "add_event", add_event)

    # EventBridge's TestEventPattern: moto leaves it unimplemented; its own matcher answers it.
    from moto.events.models import EventPattern
    from moto.events.responses import EventsHandler

    def test_event_pattern(self: Any) -> str:
        pattern = EventPattern.load(self._get_param("EventPattern"))
        event = json.loads(self._get_param("Event"))
        return json.dumps({"Result": pattern.matches_event(event)})

    patch(EventsHandler, "test_event_pattern", test_event_pattern)

    # KMS ScheduleKeyDeletion: AWS takes a key id or ARN; moto looks the raw value up (ARN: 500).
    from moto.kms.models import KmsBackend

    original_schedule_deletion = KmsBackend.schedule_key_deletion

    def schedule_key_deletion(self: Any, key_id: str, pending_window_in_days: int) -> Any:
        return original_schedule_deletion(
            self, self.any_id_to_key_id(key_id), pending_window_in_days
        )

    patch(KmsBackend, "schedule_key_deletion", schedule_key_deletion)

    # EventBridge -> Step Functions targets: moto raises NotImplementedError (eventbridge.py).
    # An event's time (a request's time, for the flows) is when PutEvents ran, on AWS's clock.
    import moto.events.models as events_models
    from moto.events.models import Rule

    patch(events_models, "unix_time", clock.wall)

    from embedded_aws import eventbridge

    patch(Rule, "send_to_targets", eventbridge.send_to_targets(Rule.send_to_targets))

    # Lambda: the real handler, in-process.
    def backend_invoke(
        self: Any,
        function_name: str,
        qualifier: Any,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> bytes:
        function = self.get_function(function_name, qualifier)
        return invoke(function, body, response_headers)

    patch(lambda_models.LambdaBackend, "invoke", backend_invoke)
    patch(lambda_simple_models.LambdaSimpleBackend, "invoke", backend_invoke)
