"""Static checks of both ASL files against the rules the flows depend on, and of the wiring
between the ASL files, template.yaml and functions/."""

from __future__ import annotations

import re
from typing import Any

import pytest

from fargate_env import errors
from tests.flows.asl import TEMPLATE, definition, step_of, walk_states
from tests.support import FUNCTIONS

MACHINES = ["provision", "teardown"]
LAMBDA_TRANSIENT = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.TooManyRequestsException",
}
OUR_RETRYABLE = set(errors.RETRYABLE_ERROR_NAMES)
SUBSTITUTION = re.compile(r"\$\{([A-Za-z0-9]+)\}")
#: A bounded loop leaves through a Choice rule comparing a poll counter with a limit.
LOOP_BOUND = re.compile(r"\$(?:states\.input\.)?[A-Za-z]*[pP]olls\s*>=\s*(?:\$[A-Za-z]+|\d+)")


def tasks(machine: str) -> list[tuple[str, dict[str, Any]]]:
    return [(n, s) for n, s in walk_states(definition(machine)) if s["Type"] == "Task"]


def all_tasks() -> list[tuple[str, str, dict[str, Any]]]:
    return [(machine, name, state) for machine in MACHINES for name, state in tasks(machine)]


TASK_IDS = [f"{machine}:{name}" for machine, name, _ in all_tasks()]


@pytest.mark.parametrize(("machine", "name", "state"), all_tasks(), ids=TASK_IDS)
def test_every_task_retries_transient_errors_with_jittered_backoff(machine, name, state):
    retriers = state.get("Retry", [])
    assert retriers, f"{name} has no Retry"
    first = retriers[0]
    if step_of(state) is not None:
        assert set(first["ErrorEquals"]) >= LAMBDA_TRANSIENT | OUR_RETRYABLE
    else:
        assert any(error.startswith("StepFunctions.") for error in first["ErrorEquals"])
    for retrier in retriers:
        assert retrier["JitterStrategy"] == "FULL"
        assert retrier["MaxDelaySeconds"] > 0
        assert retrier["MaxAttempts"] > 0
        assert retrier["BackoffRate"] >= 1.0
        assert "States.ALL" not in retrier["ErrorEquals"]
        assert "States.TaskFailed" not in retrier["ErrorEquals"]


@pytest.mark.parametrize(("machine", "name", "state"), all_tasks(), ids=TASK_IDS)
def test_every_task_is_caught_and_has_a_timeout(machine, name, state):
    assert state["TimeoutSeconds"] > 0
    catchers = state.get("Catch", [])
    assert any("States.ALL" in catcher["ErrorEquals"] for catcher in catchers), name


@pytest.mark.parametrize("machine", MACHINES)
def test_the_machine_has_a_timeout_and_every_state_a_comment(machine):
    asl = definition(machine)
    assert asl["TimeoutSeconds"] > 0
    assert asl["QueryLanguage"] == "JSONata"
    missing = [name for name, state in walk_states(asl) if not state.get("Comment")]
    assert missing == []


@pytest.mark.parametrize("machine", MACHINES)
def test_state_names_are_unique_in_the_whole_machine(machine):
    names = [name for name, _ in walk_states(definition(machine))]
    assert len(names) == len(set(names))


def _successors(state: dict[str, Any]) -> list[str]:
    targets = [state.get("Next"), state.get("Default")]
    targets += [rule.get("Next") for rule in state.get("Choices", [])]
    targets += [catcher.get("Next") for catcher in state.get("Catch", [])]
    return [t for t in targets if t]


def _scopes(machine: dict[str, Any]) -> list[dict[str, Any]]:
    """The machine and every branch / item processor: each is its own graph."""
    found = [machine]
    for state in machine["States"].values():
        for branch in state.get("Branches", []):
            found += _scopes(branch)
        if "ItemProcessor" in state:
            found += _scopes(state["ItemProcessor"])
    return found


def _cycles(states: dict[str, Any]) -> list[set[str]]:
    """Strongly connected components with a cycle (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in _successors(states[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1 or node in _successors(states[node]):
                components.append(component)

    for name in states:
        if name not in index:
            visit(name)
    return components


@pytest.mark.parametrize("machine", MACHINES)
def test_every_loop_is_bounded(machine):
    loops = []
    for scope in _scopes(definition(machine)):
        states = scope["States"]
        for loop in _cycles(states):
            exits = [
                rule
                for name in loop
                if states[name]["Type"] == "Choice"
                for rule in states[name]["Choices"]
                if rule["Next"] not in loop and LOOP_BOUND.search(rule.get("Condition", ""))
            ]
            assert exits, f"loop {sorted(loop)} has no bounded exit"
            loops.append(loop)
    assert loops, "expected polling loops"


def _substitutions_used(machine: str) -> set[str]:
    text = (FUNCTIONS.parent / "statemachine" / f"{machine}.asl.json").read_text()
    return set(SUBSTITUTION.findall(text))


def _state_machine_resource(machine: str) -> dict[str, Any]:
    for resource in TEMPLATE["Resources"].values():
        props = resource.get("Properties", {})
        if props.get("DefinitionUri") == f"statemachine/{machine}.asl.json":
            return dict(resource)
    raise AssertionError(f"no state machine uses statemachine/{machine}.asl.json")


@pytest.mark.parametrize("machine", MACHINES)
def test_every_substitution_is_defined_and_every_definition_used(machine):
    defined = _state_machine_resource(machine)["Properties"]["DefinitionSubstitutions"]
    assert _substitutions_used(machine) == set(defined)


@pytest.mark.parametrize("machine", MACHINES)
def test_every_substituted_function_exists_and_the_machine_may_invoke_it(machine):
    resource = _state_machine_resource(machine)
    substitutions = resource["Properties"]["DefinitionSubstitutions"]
    invokable = {
        str(arn["Fn::GetAtt"][0])
        for policy in resource["Properties"]["Policies"]
        for statement in policy.get("Statement", [])
        if "lambda:InvokeFunction" in statement["Action"]
        for arn in statement["Resource"]
    }
    functions = {
        key: value["Fn::GetAtt"][0]
        for key, value in substitutions.items()
        if isinstance(value, dict) and "Fn::GetAtt" in value
    }
    for key, logical_id in functions.items():
        target = TEMPLATE["Resources"][logical_id]
        assert target["Type"] == "AWS::Serverless::Function", key
        code = FUNCTIONS.parent / target["Properties"]["CodeUri"] / "app.py"
        assert code.exists(), code
    # ... and it may invoke exactly the functions it uses, no other
    assert invokable == set(functions.values())


def test_both_machines_are_standard_with_logging_and_tracing():
    for machine in MACHINES:
        props = _state_machine_resource(machine)["Properties"]
        assert props["Type"] == "STANDARD"
        assert props["Tracing"] == {"Enabled": True}
        assert props["Logging"]["Level"] in ("ALL", "ERROR")


def test_compensation_reuses_the_teardown_machine():
    rollback = definition("provision")["States"]["Roll back what this execution created"]
    assert rollback["Resource"] == "arn:aws:states:::states:startExecution.sync:2"
    assert rollback["Arguments"]["StateMachineArn"] == "${TeardownStateMachineArn}"
    provision = _state_machine_resource("provision")
    assert provision["Properties"]["DefinitionSubstitutions"]["TeardownStateMachineArn"] == {
        "Ref": "TeardownStateMachine"
    }


def _matched_error_names(machine: str) -> set[str]:
    names: set[str] = set()
    for _, state in walk_states(definition(machine)):
        for handler in [*state.get("Retry", []), *state.get("Catch", [])]:
            names.update(handler["ErrorEquals"])
    return names


@pytest.mark.parametrize("machine", MACHINES)
def test_every_error_name_the_asl_matches_is_one_the_library_raises(machine):
    ours = {
        name
        for name in _matched_error_names(machine)
        if not name.startswith(("States.", "Lambda.", "StepFunctions."))
    }
    raised = {cls.__name__ for cls in errors.FargateEnvError.__subclasses__()}
    assert ours <= raised, ours - raised
    assert errors.NOT_READY_ERROR_NAME in ours
    # The retryable ones are exactly the classes marked retryable
    retryable = {cls.__name__ for cls in errors.FargateEnvError.__subclasses__() if cls.retryable}
    assert set(errors.RETRYABLE_ERROR_NAMES) | {errors.NOT_READY_ERROR_NAME} == retryable
