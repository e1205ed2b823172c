"""Static checks of both ASL files against the rules the flows depend on, of the wiring
between the ASL files, template.yaml and functions/, and of the builder that writes them
(tools/statemachines): same files, every JSONata expression compiles, bounds that nest."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import jsonata
import pytest
from hypothesis import given
from hypothesis import strategies as st

from embedded_aws import asl_validation
from fargate_env import bounds, errors, failures
from tests.contract.failure_shape import problems_with
from tests.flows.asl import TEMPLATE, definition, lambda_tasks, step_of, walk_states
from tests.support import FUNCTIONS
from tools.statemachines import asl, build, provision, teardown, update
from tools.statemachines.bounds_check import Analysis, cycles

MACHINES = ["provision", "teardown", "update", "reconcile"]
#: Machines that never wait on AWS: no polling loop, no ResourceNotReady.
NO_WAITS = {"reconcile"}
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


def _scopes(machine: dict[str, Any]) -> list[dict[str, Any]]:
    """The machine and every branch / item processor: each is its own graph."""
    found = [machine]
    for state in machine["States"].values():
        for branch in state.get("Branches", []):
            found += _scopes(branch)
        if "ItemProcessor" in state:
            found += _scopes(state["ItemProcessor"])
    return found


@pytest.mark.parametrize("machine", MACHINES)
def test_every_loop_is_bounded(machine):
    loops = []
    for scope in _scopes(definition(machine)):
        states = scope["States"]
        for loop in cycles(states):
            exits = [
                rule
                for name in loop
                if states[name]["Type"] == "Choice"
                for rule in states[name]["Choices"]
                if rule["Next"] not in loop and LOOP_BOUND.search(rule.get("Condition", ""))
            ]
            assert exits, f"loop {sorted(loop)} has no bounded exit"
            loops.append(loop)
    assert loops or machine in NO_WAITS, "expected polling loops"


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
    classes = _error_classes(errors.FargateEnvError)
    raised = {cls.__name__ for cls in classes}
    assert ours <= raised, ours - raised
    # no update step waits by raising ResourceNotReady: it polls
    if machine not in {"update", *NO_WAITS}:
        assert errors.NOT_READY_ERROR_NAME in ours
    # The retryable ones are exactly the classes marked retryable
    retryable = {cls.__name__ for cls in classes if cls.retryable}
    assert {
        *errors.RETRYABLE_ERROR_NAMES,
        errors.THROTTLED_ERROR_NAME,
        errors.NOT_READY_ERROR_NAME,
    } == retryable


@pytest.mark.parametrize("machine", MACHINES)
def test_every_lambda_task_retries_throttling_for_minutes_unless_it_is_a_loops_turn(machine):
    # Throttling is AWS's usual answer when many environments start at once (bench: scale).
    tasks = [(name, state, step_of(state)) for name, state in walk_states(definition(machine))]
    for name, state, step in tasks:
        if step is None:
            continue
        rules = [r for r in state["Retry"] if errors.THROTTLED_ERROR_NAME in r["ErrorEquals"]]
        assert len(rules) == 1, name
        numbers = tuple(rules[0][field] for field in asl.RETRY_FIELDS)
        expected = (
            bounds.TRANSIENT_RETRY if step in bounds.LOOPED_STEPS else bounds.THROTTLING_RETRY
        )
        assert numbers == expected, name
        assert rules[0]["JitterStrategy"] == "FULL"


def _error_classes(root: type[errors.FargateEnvError]) -> list[type[errors.FargateEnvError]]:
    """`root`'s subclasses, theirs, and so on (Step Functions matches the exact class name)."""
    found = []
    for cls in root.__subclasses__():
        found += [cls, *_error_classes(cls)]
    return found


# --- the builder -----------------------------------------------------------------------------


@pytest.mark.parametrize("machine", MACHINES)
def test_the_committed_files_are_what_the_builder_writes(machine):
    # SAM deploys the committed file; `make asl` rewrites it from tools/statemachines.
    written = build.render(build.definitions()[machine])
    committed = (build.STATEMACHINE_DIR / f"{machine}.asl.json").read_text()
    assert committed == written, "run `make asl` and commit the result"


def test_the_builder_finds_the_bounds_nested(capsys):
    assert build.problems(build.definitions(), build.function_timeouts()) == []
    assert build.main(["--check"]) == 0
    assert "history events" in capsys.readouterr().out


def test_the_builder_rewrites_a_stale_file_and_check_fails_on_it(tmp_path):
    assert build.main(["--check"], directory=tmp_path) == 1  # nothing written yet
    assert build.main([], directory=tmp_path) == 0
    assert build.main(["--check"], directory=tmp_path) == 0
    stale = tmp_path / "teardown.asl.json"
    stale.write_text(stale.read_text().replace("Teardown failed", "Teardown broke"))
    assert build.main(["--check"], directory=tmp_path) == 1


EXPRESSIONS = [
    (machine, where, expression)
    for machine in MACHINES
    for where, expression in asl_validation.jsonata_expressions(definition(machine))
]


@pytest.mark.parametrize(
    ("machine", "where", "expression"),
    EXPRESSIONS,
    ids=[f"{machine}:{where}" for machine, where, _ in EXPRESSIONS],
)
def test_every_jsonata_expression_compiles(machine, where, expression):
    # As Step Functions does at CreateStateMachine (jsonata-python, pinned like the harness's)
    jsonata.Jsonata(expression)


def test_every_jsonata_expression_is_found():
    # Every "{% %}" string of both files, and nothing else, is an expression checked above.
    for machine in MACHINES:
        text = (build.STATEMACHINE_DIR / f"{machine}.asl.json").read_text()
        found = list(asl_validation.jsonata_expressions(definition(machine)))
        assert len(found) == text.count('"{%') > (10 if machine in NO_WAITS else 50)


def test_a_state_name_with_an_apostrophe_compiles_in_its_failure_record():
    # The teardown's "Find the environment's resources" once ended the JSONata string early.
    old = (
        "$string({'failed_step': 'Find the environment's resources', 'error': "
        "$states.errorOutput.Error})"
    )
    with pytest.raises(Exception, match="Expected"):
        jsonata.Jsonata(old)
    failure = asl.failure(
        "Find the environment's resources",
        environment="$name",
        resources="none deleted",
        next_step="Run it again.",
    )
    cause = jsonata.Jsonata(asl.failed_with(failure)["Cause"][2:-2]).evaluate(
        None, {"name": "demo", "states": {"errorOutput": {"Error": "E", "Cause": "C"}}}
    )
    assert json.loads(cause)["failed_step"] == "Find the environment's resources"


@given(st.text())
def test_any_text_is_a_jsonata_literal_of_itself(text):
    assert jsonata.Jsonata(asl.literal(text)).evaluate(None) == text


def _record_fields(catcher: dict[str, Any]) -> dict[str, Any]:
    output = catcher.get("Output", {})
    # a Parallel passing on its branch's record ("{% $states.errorOutput %}") writes none
    return {**catcher.get("Assign", {}), **(output if isinstance(output, dict) else {})}


#: A Lambda function's error as Step Functions hands it to a Catch: the message, with the stack
#: trace the failure must leave out.
LAMBDA_CAUSE = json.dumps(
    {
        "errorType": "SomeError",
        "errorMessage": "what went   wrong\n  there",
        "stackTrace": ['  File "/var/task/app.py", line 9, in lambda_handler\n'],
    }
)


def _evaluate(expression: str, bindings: dict[str, Any]) -> Any:
    """A JSONata expression of the machines, with Step Functions' own $parse."""
    compiled = jsonata.Jsonata(expression)
    compiled.register_lambda("parse", json.loads)
    return compiled.evaluate(None, bindings)


def _failure_record(catcher: dict[str, Any], cause: str = "some cause") -> dict[str, Any]:
    """The failure record a Catch clause writes, evaluated with a sample error."""
    bindings = {
        "name": "demo",
        "spec": {"name": "demo", "on_failure": "rollback"},
        "rollback": None,
        "states": {
            "errorOutput": {"Error": "SomeError", "Cause": cause},
            "input": {"name": "demo", "spec": {"name": "demo"}},
        },
    }
    fields = _record_fields(catcher)
    if "Cause" in fields:
        return dict(json.loads(_evaluate(fields["Cause"][2:-2], bindings)))
    return {
        key: _evaluate(value[2:-2], bindings) if value.startswith("{%") else value
        for key, value in fields["failure"].items()
    }


def _caught_states() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (machine, name, catcher)
        for machine in MACHINES
        for name, state in walk_states(definition(machine))
        for catcher in state.get("Catch", [])
        if {"failure", "Cause"} & set(_record_fields(catcher))
    ]


def test_every_failure_record_names_the_state_that_failed():
    caught = _caught_states()
    # every Lambda step but the one that records a failure (its catcher keeps the first one)
    lambda_steps = {name for machine in MACHINES for name, _ in lambda_tasks(machine)}
    recorders = {provision.RECORD_FAILURE, update.RECORD_FAILURE}
    assert lambda_steps - {name for _, name, _ in caught} == recorders
    for machine, name, catcher in caught:
        record = _failure_record(catcher)
        assert record["failed_step"] == name, (machine, name)
        assert record["error"] == "SomeError", name


def test_every_failure_record_has_the_one_shape_with_the_lambda_message_alone():
    # Given each Catch of both machines, and a Lambda error with its stack trace
    for machine, name, catcher in _caught_states():
        # When the catch writes its failure record
        record = _failure_record(catcher, LAMBDA_CAUSE)

        # Then it has the one shape, and the message without the trace, on one line
        assert list(record) == list(failures.KEYS), (machine, name)
        # the reconcile acts on no one environment: its failures name none
        assert record["environment"] == (None if machine == "reconcile" else "demo"), name
        assert record["message"] == "what went wrong there", (machine, name)
        assert problems_with(record) == [], (machine, name)
        # as the library reads the same cause
        assert failures.message_of(LAMBDA_CAUSE) == record["message"]


# --- the checker's refusals -------------------------------------------------------------------


def _problems_with(edit) -> list[str]:
    machines = copy.deepcopy(build.definitions())
    edit(machines)
    return build.problems(machines, build.function_timeouts())


def test_a_task_timeout_shorter_than_its_function_is_refused():
    def shorten(machines):
        machines["provision"]["States"]["Verify the endpoint answers"]["TimeoutSeconds"] = 60

    [problem] = _problems_with(shorten)
    assert "Verify the endpoint answers" in problem
    assert "VerifyEndpointFunction's Timeout 90" in problem


def test_a_rollback_shorter_than_the_teardown_is_refused():
    def old_rollback_timeout(machines):
        machines["provision"]["States"][provision.ROLLBACK]["TimeoutSeconds"] = 3600

    [problem] = _problems_with(old_rollback_timeout)
    assert problem.startswith(f"provision: {provision.ROLLBACK}: TimeoutSeconds 3600")
    assert "teardown machine's worst case" in problem


def test_a_teardown_timeout_equal_to_its_wait_for_a_creation_is_refused():
    # 7200 s: "Give up waiting for the creation" could never be reached
    def old_teardown_timeout(machines):
        machines["teardown"]["TimeoutSeconds"] = bounds.CREATION_WAIT.worst_case_seconds

    [problem] = _problems_with(old_teardown_timeout)
    assert problem.startswith("teardown: TimeoutSeconds 7200 does not exceed its worst case")


def test_a_jsonata_expression_that_does_not_compile_is_refused():
    def break_a_catch(machines):
        catcher = machines["teardown"]["States"][teardown.FIND]["Catch"][0]
        catcher["Output"]["Cause"] = (
            "{% $string({'failed_step': 'Find the environment's resources'}) %}"
        )

    [problem] = _problems_with(break_a_catch)
    assert problem.startswith("teardown: INVALID_JSONATA_EXPRESSION")
    assert problem.endswith(f"at /States/{teardown.FIND}/Catch[0]/Output/Cause")


@pytest.mark.parametrize(
    ("bound", "old_value", "machine"),
    [
        # 7,200 looks: a 2-hour deadline polled every second, as the spec allowed
        ("MAX_PROVISION_POLLS", 7200, "provision"),
        # 864 looks per wait: a 1-hour drain polled every 5 s, in both branches at once
        ("TEARDOWN_MAX_POLLS", 864, "teardown"),
    ],
)
def test_loops_that_outgrow_the_history_are_refused(
    monkeypatch, tmp_path, capsys, bound, old_value, machine
):
    monkeypatch.setattr(bounds, bound, old_value)
    problems = build.problems(build.definitions(), build.function_timeouts())
    history = [p for p in problems if "history events" in p]
    assert history
    assert history[0].startswith(f"{machine}: its worst case records")
    # and nothing is written
    assert build.main([], directory=tmp_path) == 1
    assert list(tmp_path.iterdir()) == []
    assert history[0] in capsys.readouterr().err


def test_a_loop_without_a_declared_bound_is_refused():
    with pytest.raises(ValueError, match="no bound declared for the loop"):
        Analysis([], map_items=1).machine(definition("provision"))


def test_a_computed_wait_outside_a_bounded_loop_is_refused():
    machine = copy.deepcopy(definition("teardown"))
    machine["States"]["Wait for the creation to finish"]["Seconds"] = "{% $interval %}"
    loops = [loop for loop in teardown.loops() if teardown.CLAIM not in loop.states]
    with pytest.raises(ValueError, match="no bound declared"):
        Analysis(loops, map_items=1).machine(machine)
    machine["States"][teardown.CLAIM]["Next"] = teardown.FIND  # the wait is no longer a loop
    with pytest.raises(ValueError, match="a Wait of computed Seconds outside a bounded loop"):
        Analysis(teardown.loops(), map_items=1).machine(machine)


def test_the_worst_case_counts_every_loop_at_its_bound():
    teardown_definition = definition("teardown")
    as_requested = Analysis(teardown.loops(), map_items=5).machine(teardown_definition)
    as_rollback = Analysis(teardown.loops(rollback=True), map_items=5).machine(teardown_definition)
    # the difference is the creation wait: 239 more turns of claim (5 + 4 retries), Choice, Wait
    claim = teardown_definition["States"][teardown.CLAIM]
    turn_events = 5 + 3 * 4 + 2 + 2
    turn_seconds = (
        5 * claim["TimeoutSeconds"] + (1 + 2 + 4 + 8) + bounds.CREATION_WAIT.interval_seconds
    )
    assert as_requested.events - as_rollback.events == 239 * turn_events
    assert as_requested.seconds - as_rollback.seconds == 239 * turn_seconds


def test_no_fail_state_reports_a_step_functions_error_name_as_its_own():
    # Given each Fail state whose error is computed, and a caught error of Step Functions' own
    bindings = {
        "states": {"input": {"Error": "States.Timeout"}},
        "outcome": {"error": "States.DataLimitExceeded"},
    }
    computed = [
        (name, state["Error"])
        for machine in MACHINES
        for name, state in walk_states(definition(machine))
        if state["Type"] == "Fail" and state.get("Error", "").startswith("{%")
    ]
    assert len(computed) >= 10
    for name, error in computed:
        # Then it reports the name without "States.", which the ASL reserves (the failure's
        # own error keeps the full name)
        reported = _evaluate(error[2:-2], bindings)
        assert reported in ("Timeout", "DataLimitExceeded"), (name, reported)
    assert failures.execution_error("States.Timeout") == "Timeout"
    assert failures.execution_error("InvalidSpec") == "InvalidSpec"
