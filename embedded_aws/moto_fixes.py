"""Where moto answers differently from AWS in a way the flows meet, put right - for the
embedded AWS and for the unit tests' plain moto account alike.

- RunTask of a Fargate task definition where a container has no memory of its own (the task
  has it: ECS accepts this, RegisterTaskDefinition API reference, `memory`) fails in moto with a
  TypeError while it adds up the containers' memory; a task with a task-level size reserves that
  size.
- moto's CloudFormation has no AWS::IAM::OIDCProvider (the pull-request workflow's provider,
  made when the deployment names none): here it creates the provider in moto's IAM; Ref is its
  ARN, as CloudFormation's (AWS::IAM::OIDCProvider, return values).
- moto's ServiceModel.operation_model and botocore's, which it calls, cache under the same key
  (botocore's instance_cache keys by the method's name): between the two, another thread can be
  handed botocore's OperationModel, and moto's router then fails with "'OperationModel' object
  has no attribute 'http_trait'" (seen with 60 executions at once). Each service model's first
  look-up of an operation is made under a lock.
- moto's execution marks itself SUCCEEDED and only then stores its output: a DescribeExecution
  between the two (a parent's .sync:2 wait for its nested execution, under load) would read
  SUCCEEDED with no output, and the parent would go on with a null result. The output is stored
  first.
- GetExecutionHistory answers every event at once in moto, whatever maxResults, nextToken and
  reverseOrder say. AWS pages them (Step Functions API reference, GetExecutionHistory: at most
  maxResults per page, 100 when it is 0 or absent, 1000 at the most; a nextToken for the rest;
  reverseOrder lists them newest first), so a reader that forgets a page fails here too.
- moto's CloudFormation reads every template body with PyYAML first and JSON only when that
  fails; CloudFormation reads a JSON template as JSON (JSON is YAML too, so the answer is the
  same, but PyYAML takes about a second over the emulator's 345 KB template). A body that is a
  JSON object is read as JSON; anything else as before.
"""

from __future__ import annotations

import base64
import functools
import json
import threading
from collections.abc import Callable
from typing import Any, Final, cast

from embedded_aws.remembered import Remembered


def _iam(account_id: str) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account_id]["global"]


class OIDCProvider:
    """AWS::IAM::OIDCProvider for moto's CloudFormation: the provider in moto's IAM."""

    def __init__(self, arn: str) -> None:
        self.arn = self.physical_resource_id = arn

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> OIDCProvider:
        props = cloudformation_json["Properties"]
        created = _iam(account_id).create_open_id_connect_provider(
            props["Url"], props.get("ThumbprintList", []), props["ClientIdList"], []
        )
        return cls(created.arn)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: OIDCProvider,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> OIDCProvider:
        return original_resource  # nothing of ours changes it (its URL names it)

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        _iam(account_id).delete_open_id_connect_provider(resource_name)

    def get_cfn_attribute(self, attribute: str) -> str:
        if attribute == "Arn":
            return self.arn
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        raise UnformattedGetAttTemplateException()

    def is_created(self) -> bool:
        return True


_operation_models = threading.Lock()


def _locked_operation_model(original: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    @functools.wraps(original)
    def operation_model(self: Any, operation_name: str) -> Any:
        with _operation_models:
            return original(self, operation_name)

    return operation_model


def _output_before_status(original: Callable[[Any], None]) -> Callable[[Any], None]:
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramEnded

    @functools.wraps(original)
    def reflect_execution_status(self: Any) -> None:
        env = self.execution.exec_worker.env
        if isinstance(env.program_state(), ProgramEnded):
            self.execution.output = env.states.get_input()
        original(self)

    return reflect_execution_status


def _remembered_method_names(original: Callable[[Any], list[str]]) -> Callable[[Any], list[str]]:
    """moto's method_names_from_class, remembered per class. moto asks it on every request
    (inspect.getmembers over the whole class: a twentieth of a flow test's CPU). A method added
    to or removed from any class of the MRO (a patch) changes the length of that class's
    __dict__, which is part of the key, so the names are read again then."""
    known: Remembered[list[str]] = Remembered()

    @functools.wraps(original)
    def method_names(clazz: Any) -> list[str]:
        key = (clazz, tuple(len(vars(base)) for base in clazz.__mro__))
        return known.get(key, lambda: original(clazz))

    return method_names


#: GetExecutionHistory's page size when maxResults is 0 or absent, and its largest.
HISTORY_PAGE: Final = 100
HISTORY_MAX_PAGE: Final = 1000


def _history_page_token(execution_arn: str, start: int, reverse: bool) -> str:
    raw = json.dumps({"arn": execution_arn, "start": start, "reverse": reverse})
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _paged_history(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """StepFunctionResponse.get_execution_history, paged as AWS pages it."""
    from moto.core.responses import ActionResult
    from moto.stepfunctions.exceptions import InvalidToken, ValidationException

    @functools.wraps(original)
    def get_execution_history(self: Any) -> Any:
        answer = original(self)
        execution_arn = str(self._get_param("executionArn"))
        reverse = bool(self._get_param("reverseOrder") or False)
        size = int(self._get_param("maxResults") or 0) or HISTORY_PAGE
        if size > HISTORY_MAX_PAGE:
            raise ValidationException(
                f"1 validation error detected: Value '{size}' at 'maxResults' failed to satisfy "
                f"constraint: Member must have value less than or equal to {HISTORY_MAX_PAGE}"
            )
        token = self._get_param("nextToken")
        start = 0
        if token:
            try:
                state = json.loads(base64.urlsafe_b64decode(str(token).encode()))
                start = int(state["start"])
                valid = state["arn"] == execution_arn and state["reverse"] == reverse
            except (ValueError, KeyError, TypeError):
                valid = False
            if not valid:
                raise InvalidToken(f"{token!r} is not a token of this history request")
        events = list(cast(dict[str, Any], answer.result)["events"])
        if reverse:
            events.reverse()
        page: dict[str, Any] = {"events": events[start : start + size]}
        if start + size < len(events):
            page["nextToken"] = _history_page_token(execution_arn, start + size, reverse)
        return ActionResult(page)

    return get_execution_history


def _json_first(parse_template: Callable[[str], dict[str, Any]]) -> Callable[[str], Any]:
    def parse(template: str) -> Any:
        if template.lstrip().startswith("{"):
            try:
                return json.loads(template)
            except ValueError:
                pass  # a YAML flow mapping ({a: 1}): YAML's to read
        return parse_template(template)

    return parse


def install(patch: Callable[[Any, str, Any], None]) -> None:
    import moto.cloudformation.parsing as parsing
    import moto.core.responses as moto_responses
    import moto.core.utils as moto_utils
    from moto.cloudformation.models import Stack
    from moto.core.model import ServiceModel
    from moto.ecs.models import EC2ContainerServiceBackend
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    patch(ServiceModel, "operation_model", _locked_operation_model(ServiceModel.operation_model))
    patch(
        moto_responses,
        "method_names_from_class",
        # responses.py imports it from moto.core.utils and calls it by that module-level name.
        _remembered_method_names(moto_utils.method_names_from_class),
    )
    from moto.stepfunctions.responses import StepFunctionResponse

    history = StepFunctionResponse.get_execution_history
    patch(StepFunctionResponse, "get_execution_history", _paged_history(history))
    communication = BaseExecutionWorkerCommunication
    patch(
        communication,
        "_reflect_execution_status",
        _output_before_status(communication._reflect_execution_status),
    )

    patch(Stack, "parse_template", staticmethod(_json_first(Stack.parse_template)))
    resource_class = parsing.resource_class_from_type

    def with_oidc_provider(resource_type: str) -> Any:
        if resource_type == "AWS::IAM::OIDCProvider":
            return OIDCProvider
        return resource_class(resource_type)

    patch(parsing, "resource_class_from_type", with_oidc_provider)

    original = EC2ContainerServiceBackend._calculate_task_resource_requirements

    def requirements(task_definition: Any) -> dict[str, Any]:
        if getattr(task_definition, "memory", None):
            return {
                "CPU": int(task_definition.cpu or 0),
                "MEMORY": int(task_definition.memory),
                "PORTS": [],
                "PORTS_UDP": [],
            }
        return dict(original(task_definition))

    patch(
        EC2ContainerServiceBackend,
        "_calculate_task_resource_requirements",
        staticmethod(requirements),
    )
