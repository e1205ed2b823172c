"""The pieces both machines are written with: a Lambda Task that brings the standard Retry,
TimeoutSeconds and Catch; the one failure record; JSONata written safely.

In the ASL a string "{% ... %}" is a JSONata expression and any other string a plain value.
`x` writes one expression; `exprs` reads every string of a payload (an Assign, an Output) as
one. A state name is never typed into JSONata by hand: `to_jsonata` writes plain values as
escaped literals, so an apostrophe in a name cannot end a string. ($states.context.State.Name
would do too in moto, which keeps the Task's name while its Catch runs; AWS documents it as the
current state's name without saying what a Catch sees, so the record writes the name itself.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from fargate_env import bounds, errors, failures

Json = dict[str, Any]
State = tuple[str, Json]
#: A state's Catch clauses, made for the state of the given name.
Catcher = Callable[[str], list[Json]]

EXPRESSION = re.compile(r"^\{%(.*)%\}$", re.S)
#: Text a single-quoted JSONata string holds as it is: no quote, backslash or control character.
PLAIN = re.compile(r"[^'\\\x00-\x1f]*")
ERROR = "{% $states.errorOutput.Error %}"
CAUSE = "{% $states.errorOutput.Cause %}"
#: The errors of an input refused (JSONata list items): the request itself must change.
INPUT_ERRORS = ", ".join(
    f"'{error.__name__}'" for error in (errors.InvalidRequest, errors.InvalidSpec)
)
#: The error of a bounded wait that reached its bound.
DEADLINE_EXCEEDED = "DeadlineExceeded"
#: A Retry rule's numbers, in the order of bounds.Backoff.
RETRY_FIELDS = ("IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds")
#: `then` of a state that ends its machine or branch.
END = "(end)"
LAMBDA_TRANSIENT_ERRORS = tuple(
    f"Lambda.{name}Exception"
    for name in ("Service", "AWSLambda", "SdkClient", "ClientExecutionTimeout", "TooManyRequests")
)


def x(expression: str) -> str:
    """A JSONata expression as an ASL field value."""
    return "{% " + expression + " %}"


def exprs(value: Any) -> Any:
    """`value` with every string read as a JSONata expression."""
    if isinstance(value, str):
        return value if EXPRESSION.match(value) else x(value)
    if isinstance(value, dict):
        return {key: exprs(item) for key, item in value.items()}
    return value


def literal(text: str) -> str:
    """A JSONata string literal of `text`, whatever it contains: single-quoted as people write
    them when nothing in it needs escaping, else JSON-escaped (also valid JSONata)."""
    return f"'{text}'" if PLAIN.fullmatch(text) else json.dumps(text, ensure_ascii=False)


def after_input_error(fix_the_input: str, otherwise: str) -> str:
    """JSONata for a failure's `next`: `fix_the_input` when the input was refused (its error
    one of INPUT_ERRORS), else `otherwise` (both plain text)."""
    return x(
        f"$states.errorOutput.Error in [{INPUT_ERRORS}] ? "
        f"{literal(fix_the_input)} : {literal(otherwise)}"
    )


def to_jsonata(value: Any) -> str:
    """JSONata source that builds `value`: expressions as they are, plain strings as literals."""
    if isinstance(value, str):
        match = EXPRESSION.match(value)
        return match.group(1).strip() if match else literal(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {to_jsonata(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def text(template: str, **values: str) -> str:
    """JSONata that writes `template` (a failures.py text) with its {placeholders} replaced by
    the JSONata expressions in `values`: the texts are worded once, in the library."""
    parts = re.split(r"\{(\w+)\}", template)
    pieces = [literal(part) if i % 2 == 0 else values[part] for i, part in enumerate(parts)]
    return x(" & ".join(piece for piece in pieces if piece != "''"))


def message_in(cause: str, fallback: str) -> str:
    """JSONata for the human message inside `cause` (a JSONata expression), as
    failures.message_of reads it: a Lambda error's errorMessage (its stack trace left to the
    logs) or the cause itself, on one line, at most MESSAGE_MAX_CHARACTERS; `fallback` when
    there is none. $parse is Step Functions' own JSONata function (Developer Guide,
    "Transforming data with JSONata"), tried only on a cause that is a JSON object."""
    return x(
        f"($c := {cause}; $m := $type($c) = 'string' and $contains($c, /^\\{{/) ? "
        "$parse($c).errorMessage : $c; $type($m) = 'string' and $trim($m) != '' ? "
        f"$substring($trim($m), 0, {failures.MESSAGE_MAX_CHARACTERS}) : {fallback})"
    )


#: The message of the error a Catch caught.
MESSAGE = message_in("$states.errorOutput.Cause", "$states.errorOutput.Error")


def failure(
    step: str,
    *,
    environment: str,
    resources: str,
    next_step: str,
    error: str = ERROR,
    message: str = MESSAGE,
) -> Json:
    """THE failure, in its one shape (failures.KEYS), for every failure of both machines that
    no Lambda step reports: the environment (a JSONata expression), the state that failed,
    the error, its message, what happened to the resources and what to do next (each plain
    text or "{% expression %}")."""
    values = (exprs(environment), step, error, message, resources, next_step)
    return dict(zip(failures.KEYS, values, strict=True))


def failed_with(record: Json) -> Json:
    """A failure record as a Fail state reads it: the error, and the record as its cause."""
    return {"Error": record["error"], "Cause": x(f"$string({to_jsonata(record)})")}


def refuse_to(
    fail_state: str, why: str, *, environment: str, resources: str, next_step: str
) -> Catcher:
    """Catch every error and fail at once at `fail_state` (a Fail state of its input) with the
    failure of the state that failed: for the steps before anything was done."""
    return lambda state: [
        catch(
            fail_state,
            why,
            Output=failed_with(
                failure(state, environment=environment, resources=resources, next_step=next_step)
            ),
        )
    ]


def still_fail(fail_state: str, unrecorded: str) -> Catcher:
    """The Catch of the step that records a failure: when recording it fails too, fail anyway
    with the failure as the machine knows it (`unrecorded`, JSONata of its JSON text)."""
    why = "Still fail with the original failure if recording it failed"
    assign = {"outcome": exprs({"error": "$failure.error", "cause": unrecorded})}
    return lambda state: [catch(fail_state, why, Assign=assign)]


def catch(next_state: str, comment: str, *errors: str, **fields: Any) -> Json:
    """One Catch clause (of States.ALL unless `errors` are named); `fields`: Assign, Output."""
    caught = list(errors) or ["States.ALL"]
    return {"ErrorEquals": caught, "Comment": comment, **fields, "Next": next_state}


def retrier(errors: tuple[str, ...], backoff: bounds.Backoff, comment: str) -> Json:
    numbers = dict(zip(RETRY_FIELDS, backoff, strict=True))
    return {"ErrorEquals": list(errors), **numbers, "JitterStrategy": "FULL", "Comment": comment}


def function_arn(step: str) -> str:
    """The DefinitionSubstitutions key of functions/<step> (its logical id + "Arn")."""
    return "${" + "".join(part.title() for part in step.split("_")) + "FunctionArn}"


def task(
    name: str,
    step: str,
    comment: str,
    payload: Json,
    catcher: Catcher,
    *,
    not_ready: str | None = None,
    assign: Json | None = None,
    output: Any = None,
    then: str | None = None,
) -> State:
    """A Task invoking functions/<step> with `payload` (plus the execution's name), retrying
    the Lambda service's transient errors and ours, and ResourceNotReady when `not_ready` says
    why; bounded by the step's TimeoutSeconds; every other error goes to `catcher`. Strings
    in `payload`, `assign` and `output` are JSONata expressions."""
    transient = (*LAMBDA_TRANSIENT_ERRORS, *errors.RETRYABLE_ERROR_NAMES)
    throttled = (errors.THROTTLED_ERROR_NAME,)
    if step in bounds.LOOPED_STEPS:
        why = "Lambda service errors and AWS errors that outlived boto3's own retries"
        retry = [retrier((*transient, *throttled), bounds.TRANSIENT_RETRY, why)]
    else:
        why = "Lambda service errors and AWS server errors that outlived boto3's own retries"
        slowly = "AWS throttling that outlived boto3's own retries: for minutes, jittered"
        retry = [
            retrier(transient, bounds.TRANSIENT_RETRY, why),
            retrier(throttled, bounds.THROTTLING_RETRY, slowly),
        ]
    if not_ready is not None:
        not_ready_error = (errors.NOT_READY_ERROR_NAME,)
        retry.append(retrier(not_ready_error, bounds.NOT_READY_RETRY[step], not_ready))
    arguments = {"FunctionName": function_arn(step), "Payload": exprs(payload)}
    arguments["Payload"]["execution_name"] = x("$states.context.Execution.Name")
    state: Json = {"Type": "Task", "Comment": comment, "Resource": "arn:aws:states:::lambda:invoke"}
    state.update(Arguments=arguments, TimeoutSeconds=bounds.TASK_TIMEOUT_SECONDS[step], Retry=retry)
    if assign is not None:
        state["Assign"] = exprs(assign)
    state.update(Output=exprs({} if output is None else output), Catch=catcher(name))
    return name, {**state, **following(then)}


def following(then: str | None) -> Json:
    """Where a state goes: `then`, the end (END), or (None) the state listed after it."""
    return {} if then is None else {"End": True} if then == END else {"Next": then}


def wait(name: str, comment: str, seconds: int | str, then: str | None = None) -> State:
    return name, {"Type": "Wait", "Comment": comment, "Seconds": exprs(seconds), **following(then)}


def hours(polling: bounds.Polling) -> str:
    """A bounded wait's worst case, as its comments and messages say it ("2 hours")."""
    return f"{polling.worst_case_seconds / 3600:g} hours"


def bounded_wait(name: str, polling: bounds.Polling, then: str) -> State:
    """The Wait of a loop with a fixed bound, its comment saying the bound."""
    comment = (
        f"Bounded: {polling.max_polls} looks, {polling.interval_seconds} s apart "
        f"({hours(polling)})."
    )
    return wait(name, comment, polling.interval_seconds, then)


def choice(name: str, comment: str, rules: list[tuple[str, str]], default: str) -> State:
    """Rules are (JSONata condition, next state), tried in order."""
    choices = [{"Condition": x(condition), "Next": target} for condition, target in rules]
    return name, {"Type": "Choice", "Comment": comment, "Choices": choices, "Default": default}


def fail(name: str, comment: str, **reported: str) -> State:
    """A Fail state; `reported`: its Error and Cause (see `failed_with`)."""
    return name, {"Type": "Fail", "Comment": comment, **reported}


def reported(error: str) -> str:
    """JSONata for the error a Fail state reports, from the expression `error`: without the
    "States." prefix, which is Step Functions' own (the ASL specification: errors a state
    reports "MUST NOT begin with the prefix States."; the embedded AWS refuses them as moto
    does). The failure's `error` keeps the full name (failures.execution_error)."""
    return x(f"$replace({error}, /^{re.escape(failures.RESERVED_ERROR_PREFIX)}/, '')")


def fail_with_outcome(name: str, comment: str) -> State:
    """The Fail state after a step that recorded a failure: its `$outcome` error and cause."""
    return fail(name, comment, Error=reported("$outcome.error"), Cause=x("$outcome.cause"))


def fail_with_input(name: str, comment: str) -> State:
    """A Fail state whose input is {"Error", "Cause"} (see `failed_with`)."""
    return fail(
        name, comment, Error=reported("$states.input.Error"), Cause=x("$states.input.Cause")
    )


def parallel(
    name: str, comment: str, branches: list[Json], catcher: Catcher, assign: Json
) -> State:
    """Branches at once; a branch that fails fails the state, which goes to `catcher`."""
    state: Json = {"Type": "Parallel", "Comment": comment, "Branches": branches}
    state.update(Assign=exprs(assign), Output={}, Catch=catcher(name))
    return name, state


def succeed(name: str, comment: str, output: Json | None = None) -> State:
    state: Json = {"Type": "Succeed", "Comment": comment}
    return name, state if output is None else {**state, "Output": exprs(output)}


def scope(*states: State) -> Json:
    """A machine's or a branch's states: the first one starts; a state that does not say where
    it goes goes to the one listed after it (the last one ends)."""
    for (_, state), after in zip(states, [*(name for name, _ in states[1:]), END], strict=True):
        if state["Type"] not in ("Choice", "Succeed", "Fail") and not {"Next", "End"} & set(state):
            state.update(following(after))
    return {"StartAt": states[0][0], "States": dict(states)}


def machine(comment: str, timeout_seconds: int, *states: State) -> Json:
    header = {"Comment": comment, "QueryLanguage": "JSONata", "TimeoutSeconds": timeout_seconds}
    return {**header, **scope(*states)}
