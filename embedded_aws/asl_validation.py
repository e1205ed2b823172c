"""What Step Functions checks in a definition at CreateStateMachine / UpdateStateMachine that
moto does not: every JSONata expression compiles.

AWS refuses a definition whose JSONata does not parse with InvalidDefinition, naming the code,
the parser's message and where the expression is, for example
    Invalid State Machine Definition: 'INVALID_JSONATA_EXPRESSION: Expected "]", got ","
    at /States/E/Output/v'
(the code and the JSON pointer form as measured against AWS in floci-io/floci#2670 and #2745;
AWS docs, "Transforming data with JSONata in Step Functions": expressions are "{% ... %}").
moto's parser backend only checks the ASL grammar, so without this a broken expression deploys
offline and fails only when its state runs (States.QueryEvaluationError) - or never, if the
state is a rarely taken Catch. Step Functions' own functions ($partition, $range, $hash,
$random, $uuid, $parse) are function calls to JSONata's parser and compile like any other.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

#: A string field holding a JSONata expression.
EXPRESSION = re.compile(r"^\{%(.*)%\}$", re.S)
#: Fields holding the states of a nested scope: walked as states, not as values.
NESTED_SCOPES = ("Branches", "ItemProcessor", "Iterator")


def _expressions_in(value: Any, pointer: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        match = EXPRESSION.match(value)
        if match:
            yield pointer, match.group(1).strip()
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _expressions_in(item, f"{pointer}/{key}")
    elif isinstance(value, list):
        for position, item in enumerate(value):
            yield from _expressions_in(item, f"{pointer}[{position}]")


def jsonata_expressions(
    scope: dict[str, Any], pointer: str = "", language: str = "JSONPath"
) -> Iterator[tuple[str, str]]:
    """(where, expression) of every JSONata expression of a definition, `where` as AWS writes
    it (/States/<state>/<field>...); states whose QueryLanguage is JSONPath have none."""
    language = scope.get("QueryLanguage", language)
    for name, state in scope.get("States", {}).items():
        at = f"{pointer}/States/{name}"
        state_language = state.get("QueryLanguage", language)
        if state_language == "JSONata":
            for field, value in state.items():
                if field not in NESTED_SCOPES:
                    yield from _expressions_in(value, f"{at}/{field}")
        for position, branch in enumerate(state.get("Branches", [])):
            yield from jsonata_expressions(branch, f"{at}/Branches[{position}]", state_language)
        for field in ("ItemProcessor", "Iterator"):
            if field in state:
                yield from jsonata_expressions(state[field], f"{at}/{field}", state_language)


def definition_problems(definition: dict[str, Any]) -> list[str]:
    """AWS's diagnostic for each JSONata expression that does not compile."""
    import jsonata

    problems = []
    for where, expression in jsonata_expressions(definition):
        try:
            jsonata.Jsonata(expression)
        except Exception as exc:  # jsonata-python raises JException (and a few others)
            problems.append(f"INVALID_JSONATA_EXPRESSION: {exc} at {where}")
    return problems


@functools.cache
def _invalid_definition() -> type[Exception]:
    """Step Functions' InvalidDefinition error as the SDK receives it (moto's own parser-backend
    class carries no error code, so clients would see an empty one)."""
    from moto.core.exceptions import AWSError

    class InvalidDefinition(AWSError):
        TYPE = "InvalidDefinition"
        STATUS = 400

    return InvalidDefinition


def refuse_broken_jsonata(original: Callable[[str], None]) -> Callable[[str], None]:
    """Wrap moto's parser-backend definition check (used by create and update alike)."""

    def validate_definition(definition: str) -> None:
        original(definition)
        problems = definition_problems(json.loads(definition))
        if problems:
            raise _invalid_definition()(
                f"Invalid State Machine Definition: '{', '.join(problems)}'"
            )

    return validate_definition


def install(patch: Callable[[Any, str, Any], None]) -> None:
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    checked = refuse_broken_jsonata(StepFunctionsParserBackend._validate_definition)
    patch(StepFunctionsParserBackend, "_validate_definition", staticmethod(checked))
