"""What each fenv command does. A command returns a Result: the data (`--output json` prints
it), the lines people read, and the exit code; failures raise CliError (one line, a code)."""

from __future__ import annotations

import json
import re
import secrets
import ssl
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fenv_cli import render
from fenv_cli.account import Account
from fenv_cli.errors import (
    BAD_INPUT,
    CONFLICT,
    FAILED,
    NOT_FOUND,
    OK,
    TIMED_OUT,
    CliError,
)
from fenv_cli.progress import TERMINAL, LiveLine, follow

if TYPE_CHECKING:
    from fargate_env.payloads import NormalisedSpec, RegistryItem
    from fargate_env.pricing import Estimate

#: How long `up` keeps asking the URL before it says it does not answer (load balancers' DNS
#: names can take a minute to resolve everywhere after they turn active).
ANSWER_ATTEMPTS, ANSWER_PAUSE_SECONDS = 12, 5.0
#: The stack output naming the update state machine (issue #14); absent: no update flow yet.
UPDATE_MACHINE_OUTPUT = "UpdateStateMachineArn"


@dataclass
class Result:
    data: Any
    lines: list[str] = field(default_factory=list)
    code: int = OK


@dataclass
class Options:
    """The options every command shares."""

    output: str = "text"
    timeout: float | None = None
    poll_seconds: float = 1.0
    quiet_progress: bool = False

    @property
    def json(self) -> bool:
        return self.output == "json"


# ---------------------------------------------------------------------------- the spec
def read_spec(path: str) -> dict[str, Any]:
    """The execution input in `path` ({"spec": {...}} or the spec itself), parsed as JSON."""
    file = Path(path)
    try:
        text = file.read_text()
    except FileNotFoundError:
        raise CliError(BAD_INPUT, f"{path}: no such file") from None
    except OSError as exc:
        raise CliError(BAD_INPUT, f"{path}: cannot read it: {exc.strerror}") from None
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise CliError(BAD_INPUT, f"{path}: not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise CliError(BAD_INPUT, f"{path}: expected a JSON object (the spec or {{'spec': ...}})")
    spec = document.get("spec", document)
    if not isinstance(spec, dict):
        raise CliError(BAD_INPUT, f"{path}: spec: expected a JSON object")
    return spec


@dataclass(frozen=True)
class Overrides:
    """What the command line puts in place of the spec file's own values (`fenv up`)."""

    environment: str | None = None
    image: str | None = None

    def apply(self, path: str, spec: dict[str, Any]) -> dict[str, Any]:
        """The spec with the overrides in it (a copy; the validation then checks them as it
        checks the file's own values)."""
        changed = dict(spec)
        if self.environment is not None:
            changed["name"] = self.environment
        if self.image is not None:
            container = changed.get("container", {})
            if not isinstance(container, dict):
                raise CliError(BAD_INPUT, f"{path}: container: expected a JSON object")
            changed["container"] = {**container, "image": self.image}
        return changed

    def source(self, path: str) -> str:
        """Where the spec's values come from, for its errors: the file and the options."""
        options = [
            f"{option} {value!r}"
            for option, value in (("--environment", self.environment), ("--image", self.image))
            if value is not None
        ]
        return f"{path} (with {' '.join(options)})" if options else path


def normalise(path: str, spec: dict[str, Any]) -> NormalisedSpec:
    """The spec validated and with its defaults, as the first state would make it (the same
    rules and size bounds; the deployment's own settings are checked when it runs)."""
    from fargate_env import validation
    from fargate_env.errors import InvalidSpec

    try:
        return validation.normalised_spec(spec)
    except InvalidSpec as exc:
        raise CliError(BAD_INPUT, f"{path}: {exc}") from None


def cost_lines(estimate: Estimate) -> list[str]:
    rows = [
        [item["item"], f"{item['quantity']:g} {item['unit']}", render.money(item["hourly"])]
        for item in estimate["items"]
    ]
    lines = [
        f"estimated cost: {render.money(estimate['hourly'])} per hour "
        f"({estimate['region']} prices, {estimate['currency']})"
    ]
    lines += ["  " + line for line in render.table(["item", "quantity", "per hour"], rows)]
    lines += [f"  assumes {text}" for text in estimate["assumptions"]]
    lines.append(f"  excludes {estimate['excludes']}")
    return lines


def validate(path: str) -> Result:
    from fargate_env import pricing

    normalised = normalise(path, read_spec(path))
    estimate = pricing.estimate(normalised)
    data = {"valid": True, "name": normalised["name"], "spec": normalised, "cost": estimate}
    lines = [f"{path}: valid spec for environment {normalised['name']!r}", *cost_lines(estimate)]
    return Result(data, lines)


# ---------------------------------------------------------------------------- environments
def _zones(item: RegistryItem) -> int | None:
    network = (item.get("resources") or {}).get("network") or {}
    return len(network.get("load_balancer_subnet_ids") or network.get("subnet_ids") or []) or None


def _cost(item: RegistryItem, now: float) -> dict[str, Any] | None:
    """Hourly estimate and what the environment has cost so far (from its creation until it
    was deleted, rolled back, or now)."""
    from fargate_env import pricing

    spec = item.get("spec")
    if not spec:
        return None
    hourly = pricing.estimate(spec, zones=_zones(item))["hourly"]
    start = render.timestamp(item.get("created_at"))
    if item.get("status") == "DELETED":
        end = render.timestamp(item.get("deleted_at") or item.get("updated_at"))
    elif item.get("status") == "FAILED" and not item.get("retained"):
        end = render.timestamp(item.get("updated_at"))
    else:
        end = now
    so_far = pricing.accrued(hourly, (end or now) - start) if start is not None else None
    return {"hourly_usd": hourly, "so_far_usd": so_far}


def _summary(account: Account, item: RegistryItem, now: float) -> dict[str, Any]:
    created = render.timestamp(item.get("created_at"))
    expires = render.timestamp(item.get("expires_at"))
    live = item.get("status") not in ("DELETED", "FAILED")
    return {
        "name": item["name"],
        "status": item.get("status"),
        "url": item.get("url") if item.get("status") != "DELETED" else None,
        "created_at": item.get("created_at"),
        "age_seconds": round(now - created) if created is not None else None,
        "expires_at": item.get("expires_at"),
        "time_to_live_left_seconds": round(expires - now) if expires and live else None,
        "cost": _cost(item, now),
    }


def list_environments(account: Account, show_all: bool) -> Result:
    now = account.now()
    summaries = [
        _summary(account, item, now)
        for item in account.environments()
        if show_all or item.get("status") != "DELETED"
    ]
    rows = [
        [
            s["name"],
            str(s["status"]),
            s["url"] or "-",
            render.duration(s["age_seconds"]),
            render.duration(s["time_to_live_left_seconds"]),
            render.money((s["cost"] or {}).get("hourly_usd")),
        ]
        for s in summaries
    ]
    hidden = "" if show_all else " (DELETED ones hidden: --all shows them)"
    lines = (
        render.table(["NAME", "STATUS", "URL", "AGE", "TTL LEFT", "COST/H"], rows)
        if rows
        else [f"no environments{hidden}"]
    )
    return Result(summaries, lines)


def _execution(account: Account, arn: str | None, kind: str) -> dict[str, Any] | None:
    if not arn:
        return None
    from botocore.exceptions import ClientError

    try:
        described = account.client("stepfunctions").describe_execution(executionArn=arn)
    except ClientError:
        return {"arn": arn, "kind": kind, "status": "UNKNOWN"}
    return _execution_summary(described, kind)


def _execution_summary(described: dict[str, Any], kind: str) -> dict[str, Any]:
    started = render.timestamp(described.get("startDate"))
    stopped = render.timestamp(described.get("stopDate"))
    return {
        "arn": described["executionArn"],
        "name": described.get("name") or described["executionArn"].rsplit(":", 1)[-1],
        "kind": kind,
        "status": described["status"],
        "started_at": render.iso(started),
        "stopped_at": render.iso(stopped),
        "duration_seconds": round(stopped - started, 1) if started and stopped else None,
        "outcome": _outcome(described, kind),
    }


def failure_of(described: dict[str, Any]) -> dict[str, Any]:
    """A failed execution's failure (failures.py's one shape); a cause of another shape (a
    timeout, an abort) as its message."""
    from fargate_env import failures

    cause = described.get("cause") or ""
    try:
        parsed = json.loads(cause)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and set(failures.KEYS) <= set(parsed):
        return parsed
    return {"message": failures.message_of(cause)}


def _outcome(described: dict[str, Any], kind: str) -> str:
    if described["status"] == "SUCCEEDED":
        output = json.loads(described.get("output") or "{}")
        if output.get("outcome") == "superseded":
            return str(output.get("message") or "superseded")
        if kind == "provision":
            return f"ready at {output.get('url')}"
        return f"deleted {output.get('deleted_count', 0)} resources"
    if described["status"] in ("FAILED", "TIMED_OUT", "ABORTED"):
        failure = failure_of(described)
        error = described.get("error") or described["status"]
        return ": ".join(
            part for part in (failure.get("failed_step"), error, failure["message"]) if part
        )
    return "running"


def failure_lines(described: dict[str, Any]) -> list[str]:
    """What happened to the resources and what to do next, as a failure says them."""
    failure = failure_of(described)
    return [f"{key}: {failure[key]}" for key in ("resources", "next") if failure.get(key)]


def status(account: Account, name: str) -> Result:
    item = account.require(name)
    now = account.now()
    summary = _summary(account, item, now)
    spec = item.get("spec")
    resources = item.get("resources") or {}
    definition = (resources.get("task_definition") or {}).get("arn")
    executions = [
        e
        for e in (
            _execution(account, item.get("provision_execution"), "provision"),
            _execution(account, item.get("teardown_execution"), "teardown"),
        )
        if e is not None
    ]
    last = max(executions, key=lambda e: e.get("started_at") or "", default=None)
    local = account.local_url(summary["url"]) if summary["url"] else None
    data = {
        **summary,
        "local_url": local,
        "image": spec["container"]["image"] if spec else None,
        "task_definition": definition.rsplit("/", 1)[-1] if definition else None,
        "last_execution": last,
        "failure": item.get("failure"),
    }
    cost = summary["cost"] or {}
    lines = [
        f"environment      {name}",
        f"status           {summary['status']}",
        f"url              {summary['url'] or '-'}"
        + (f"  (from this machine: {local})" if local else ""),
        f"image            {data['image'] or '-'}  (revision {data['task_definition'] or '-'})",
        f"age              {render.duration(summary['age_seconds'])}"
        f"  (created {summary['created_at'] or '-'})",
        f"time to live     {render.duration(summary['time_to_live_left_seconds'])} left"
        + (f"  (expires {summary['expires_at']})" if summary["expires_at"] else "  (no expiry)"),
        f"cost             {render.money(cost.get('hourly_usd'))} per hour, "
        f"{render.money(cost.get('so_far_usd'))} so far (estimate)",
    ]
    if last:
        lines.append(
            f"last execution   {last['kind']} {last['status']} {last['name']}  ({last['outcome']})"
        )
    if item.get("failure") and item.get("status") == "FAILED":
        failure = item["failure"]
        lines.append(
            f"failure          {failure.get('failed_step')}: {failure.get('error')}: "
            f"{failure.get('message')}"
        )
    return Result(data, lines)


# ---------------------------------------------------------------------------- executions
def _machines(account: Account) -> dict[str, str]:
    return {
        "provision": account.output("ProvisionStateMachineArn"),
        "teardown": account.output("TeardownStateMachineArn"),
    }


def _input_name(described: dict[str, Any]) -> tuple[str | None, str | None]:
    """The environment an execution is about, and its teardown reason."""
    try:
        payload = json.loads(described.get("input") or "{}")
    except ValueError:
        return None, None
    if not isinstance(payload, dict):
        return None, None
    # The EventBridge rules hand over the event's detail (validation.py).
    detail = payload.get("detail")
    request: dict[str, Any] = detail if isinstance(detail, dict) else payload
    spec = request.get("spec")
    name = spec.get("name") if isinstance(spec, dict) else request.get("name")
    return name, request.get("reason")


def executions_of(
    account: Account, name: str, limit: int, running_only: bool = False
) -> list[dict[str, Any]]:
    """The environment's executions, newest first (at most `limit`; each one read once)."""
    sfn = account.client("stepfunctions")
    listed: list[tuple[str, dict[str, Any]]] = []
    for kind, arn in _machines(account).items():
        arguments: dict[str, Any] = {"stateMachineArn": arn}
        if running_only:
            arguments["statusFilter"] = "RUNNING"
        for page in sfn.get_paginator("list_executions").paginate(**arguments):
            listed.extend((kind, execution) for execution in page["executions"])
    listed.sort(key=lambda pair: pair[1]["startDate"], reverse=True)
    found = []
    for kind, execution in listed[: max(limit * 20, 200)]:
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        environment, reason = _input_name(described)
        if environment != name:
            continue
        found.append(_execution_summary(described, "rollback" if reason == "rollback" else kind))
        if len(found) >= limit:
            break
    return found


def history(account: Account, name: str, limit: int) -> Result:
    found = executions_of(account, name, limit)
    if not found and account.environment(name) is None:
        raise CliError(NOT_FOUND, f"no environment or execution named {name!r}")
    rows = [
        [
            e["started_at"] or "-",
            e["kind"],
            e["status"],
            render.duration(e["duration_seconds"]),
            e["name"],
            e["outcome"],
        ]
        for e in found
    ]
    lines = render.table(["STARTED", "KIND", "STATUS", "TOOK", "EXECUTION", "OUTCOME"], rows)
    return Result(found, lines)


def _follow(account: Account, arn: str, options: Options) -> dict[str, Any]:
    """Follow an execution to its end (or the timeout): progress to a person, none for JSON."""
    sfn = account.client("stepfunctions")
    deadline = time.monotonic() + options.timeout if options.timeout else None
    if options.json or options.quiet_progress:
        described = follow(sfn, arn, lambda _line: None, options.poll_seconds, deadline=deadline)
    elif sys.stdout.isatty():
        live = LiveLine(sys.stdout)
        try:
            described = follow(sfn, arn, live.write, options.poll_seconds, live.status, deadline)
        finally:
            live.close()
    else:
        described = follow(sfn, arn, _print, options.poll_seconds, deadline=deadline)
    if described["status"] not in TERMINAL:
        raise CliError(
            TIMED_OUT, f"{arn} still {described['status']} after {options.timeout:g} s (it goes on)"
        )
    return described


def _print(line: str) -> None:
    print(line, flush=True)


def _start(account: Account, machine_arn: str, payload: dict[str, Any], name: str) -> str:
    started = account.client("stepfunctions").start_execution(
        stateMachineArn=machine_arn, name=name, input=json.dumps(payload)
    )
    return str(started["executionArn"])


def requested_now(account: Account) -> str:
    """The time of a request made now, on AWS's clock as fenv knows it (ordering.py)."""
    from fargate_env import ordering

    return ordering.now_iso(account.now())


def _execution_name(env: str, suffix: str = "") -> str:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    return f"{env}{suffix}-{stamp}-{secrets.token_hex(2)}"


def _execute(
    account: Account,
    machine_arn: str,
    payload: dict[str, Any],
    execution_name: str,
    action: str,
    options: Options,
    wait: bool,
) -> tuple[dict[str, Any], Result | None]:
    """Start an execution and, when asked, follow it to its end. Returns its data (with the
    parsed output once it succeeded) and the Result to return at once: not waiting, or failed."""
    arn = _start(account, machine_arn, payload, execution_name)
    data: dict[str, Any] = {"execution_arn": arn}
    if not wait:
        data["status"] = "RUNNING"
        return data, Result(data, [f"started {action}: {arn}"])
    if not options.json:
        print(f"{action}: {arn}", flush=True)
    described = _follow(account, arn, options)
    data["status"] = described["status"]
    kind = "teardown" if action == "teardown" else "provision"
    if described["status"] != "SUCCEEDED":
        data["outcome"] = _outcome(described, kind)
        lines = [f"{action} {described['status']}: {data['outcome']}", *failure_lines(described)]
        return data, Result(data, lines, FAILED)
    data["output"] = json.loads(described.get("output") or "{}")
    if data["output"].get("outcome") == "superseded":
        # A request made later, of the other kind, decides: nothing was changed.
        data["outcome"] = _outcome(described, kind)
        return data, Result(data, [f"{action} {data['outcome']}"], CONFLICT)
    return data, None


def answer(url: str, local: str | None) -> dict[str, Any]:
    """Ask `url` (through its local address on the emulator) until it answers with an HTTP
    status below 500; redirects count as answers and are not followed."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    # Reachability, not identity: a load balancer's DNS name is not in its certificate.
    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    insecure.verify_mode = ssl.CERT_NONE
    opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPSHandler(context=insecure))
    target = local or url
    problem = ""
    for attempt in range(1, ANSWER_ATTEMPTS + 1):
        try:
            with opener.open(target, timeout=10) as response:
                status_code = int(response.status)
        except urllib.error.HTTPError as exc:
            status_code = int(exc.code)
        except (OSError, ValueError) as exc:
            problem = str(getattr(exc, "reason", exc))
            status_code = 0
        if 0 < status_code < 500:
            return {"url": url, "local_url": local, "status": status_code, "attempts": attempt}
        problem = problem or f"HTTP {status_code}"
        if attempt < ANSWER_ATTEMPTS:
            time.sleep(ANSWER_PAUSE_SECONDS)
    return {"url": url, "local_url": local, "status": None, "error": problem}


def up(
    account: Account,
    path: str,
    options: Options,
    wait: bool,
    name: str | None,
    overrides: Overrides | None = None,
) -> Result:
    overrides = overrides or Overrides()
    spec = overrides.apply(path, read_spec(path))
    normalised = normalise(overrides.source(path), spec)
    env = normalised["name"]
    machine, verb = account.output("ProvisionStateMachineArn"), "create"
    current = account.environment(env)
    state = (current or {}).get("status")
    if state == "READY":
        update = account.outputs.get(UPDATE_MACHINE_OUTPUT)
        if update is None:
            raise CliError(
                CONFLICT,
                f"environment {env!r} already exists (READY) and stack {account.stack!r} has no "
                f"update flow ({UPDATE_MACHINE_OUTPUT} output): tear it down first "
                f"(fenv down {env}) or choose another name",
            )
        machine, verb = update, "update"
    elif state in ("CREATING", "UPDATING"):
        doing = "created" if state == "CREATING" else "updated"
        raise CliError(
            CONFLICT,
            f"environment {env!r} is {state} (being {doing}): fenv wait {env}, then try again",
        )
    # Requested now: a create requested after a running teardown waits for it to end.
    payload = {"spec": spec, "requested_at": requested_now(account)}
    data, early = _execute(
        account, machine, payload, name or _execution_name(env), verb, options, wait
    )
    data = {"name": env, "action": verb, **data}
    if early is not None:
        return Result(data, early.lines, early.code)
    output = data["output"]
    urls = [lb["url"] for lb in output.get("load_balancers") or []] or [output.get("url")]
    answers = [answer(url, account.local_url(url)) for url in urls if url]
    data["url"], data["answers"] = output.get("url"), answers
    lines = [f"{verb} SUCCEEDED: {env!r} is READY"]
    for checked in answers:
        where = f" (from this machine: {checked['local_url']})" if checked["local_url"] else ""
        if checked["status"]:
            lines.append(f"URL: {checked['url']}{where} answers HTTP {checked['status']}")
        else:
            lines.append(f"URL: {checked['url']}{where} does not answer: {checked['error']}")
    code = OK if answers and all(checked["status"] for checked in answers) else FAILED
    return Result(data, lines, code)


def down(account: Account, env: str, options: Options, wait: bool, force: bool) -> Result:
    current = account.environment(env)
    if current is None and not force:
        raise CliError(
            NOT_FOUND,
            f"no environment named {env!r} (fenv list shows them; --force tears down "
            "whatever carries its name anyway)",
        )
    if current is not None and current.get("status") == "DELETED" and not force:
        return Result({"name": env, "status": "DELETED"}, [f"{env!r} is already deleted"])
    data, early = _execute(
        account,
        account.output("TeardownStateMachineArn"),
        {"name": env, "reason": "requested", "requested_at": requested_now(account)},
        _execution_name(env, "-down"),
        "teardown",
        options,
        wait,
    )
    data = {"name": env, **data}
    if early is not None:
        return Result(data, early.lines, early.code)
    output = data["output"]
    data["deleted"], data["deleted_count"] = output.get("deleted"), output.get("deleted_count")
    return Result(data, [f"teardown SUCCEEDED: {output.get('deleted_count', 0)} resources deleted"])


def reconcile(account: Account, options: Options, wait: bool, dry_run: bool) -> Result:
    """The reaper, on demand: start the reconcile machine and print its report."""
    data, early = _execute(
        account,
        account.output("ReconcileStateMachineArn"),
        {"dry_run": dry_run},
        _execution_name("reconcile", "-dry-run" if dry_run else ""),
        "reconcile",
        options,
        wait,
    )
    if early is not None:
        return early
    report = data["output"]
    found = [finding for kind in report["found"].values() for finding in kind]
    lines = [
        f"reconcile SUCCEEDED{' (dry run: nothing started)' if dry_run else ''}: "
        f"{len(found)} found, {len(report['started'])} teardowns started, "
        f"{len(report['restored'])} restored, {len(report['deferred'])} deferred"
    ]
    lines += [f"  {f['kind']}: {f['name']} -> {f['action']}" for f in found]
    return Result(data, lines)


def wait_for(account: Account, env: str, options: Options) -> Result:
    """Until the environment's running execution ends; its final status decides the code."""
    from fargate_env import registry

    current = account.environment(env)
    arn = None
    if current is not None and current.get("status") in registry.HELD:
        arn = registry.holder(current)
    elif current is None:
        # Started but not yet registered (an event a moment ago): its running execution.
        running = executions_of(account, env, 1, running_only=True)
        if not running:
            raise CliError(NOT_FOUND, f"no environment or running execution named {env!r}")
        arn = running[0]["arn"]
    if arn:
        _follow(account, arn, options)
        current = account.require(env)
    final = str(current.get("status")) if current else "UNKNOWN"
    code = FAILED if final == "FAILED" else OK
    lines = [f"{env!r} is {final}"] + (
        [f"url: {current['url']}"] if current and final == "READY" else []
    )
    return Result({"name": env, "status": final}, lines, code)


# ---------------------------------------------------------------------------- logs and time
def logs(account: Account, env: str, options: Options, follow_logs: bool, since: float) -> Result:
    from botocore.exceptions import ClientError

    from fargate_env import naming

    group = naming.log_group_name(env)
    client = account.client("logs")
    start_ms = int((account.now() - since) * 1000) if since else 0
    seen: set[str] = set()
    printed: list[dict[str, Any]] = []
    deadline = time.monotonic() + options.timeout if options.timeout else None

    def fetch() -> bool:
        nonlocal start_ms
        arguments: dict[str, Any] = {"logGroupName": group, "startTime": start_ms}
        try:
            pages = list(client.get_paginator("filter_log_events").paginate(**arguments))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                return False
            raise
        events = sorted(
            (e for page in pages for e in page["events"] if e["eventId"] not in seen),
            key=lambda e: e["timestamp"],
        )
        for event in events:
            seen.add(event["eventId"])
            shown = {
                "timestamp": render.iso(event["timestamp"] / 1000),
                "stream": event["logStreamName"],
                "message": event["message"].rstrip("\n"),
            }
            printed.append(shown)
            if follow_logs:
                _print(
                    json.dumps(shown)
                    if options.json
                    else f"{shown['timestamp']} {shown['stream']} {shown['message']}"
                )
            start_ms = max(start_ms, int(event["timestamp"]))
        return True

    if not fetch():
        item = account.environment(env)
        if item is None:
            raise CliError(NOT_FOUND, f"no environment named {env!r} (fenv list shows them)")
        raise CliError(
            NOT_FOUND, f"environment {env!r} ({item.get('status')}) has no log group {group}"
        )
    while follow_logs:
        if deadline is not None and time.monotonic() > deadline:
            break
        time.sleep(options.poll_seconds)
        if not fetch():
            _print(f"log group {group} deleted: {env!r} was torn down")
            break
    if follow_logs:
        return Result(None, [])
    lines = [f"{e['timestamp']} {e['stream']} {e['message']}" for e in printed]
    return Result(printed, lines or [f"no log events in {group} yet"])


_DURATION = re.compile(r"^(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?$")


def parse_duration(text: str) -> int:
    """Seconds in '90m', '2h', '1d', '1h30m' or a plain number of minutes."""
    cleaned = text.strip().lower()
    if cleaned.isdigit():
        return int(cleaned) * 60
    match = _DURATION.match(cleaned)
    if not cleaned or match is None or not any(match.groups()):
        raise CliError(BAD_INPUT, f"duration: {text!r} is not a duration (e.g. 90m, 2h, 1d, 1h30m)")
    days, hours, minutes, seconds = (int(group or 0) for group in match.groups())
    return days * 86_400 + hours * 3600 + minutes * 60 + seconds


def extend(account: Account, env: str, text: str) -> Result:
    from fargate_env import lifecycle
    from fargate_env.errors import EnvironmentBusy, EnvironmentNotFound, InvalidSpec

    seconds = parse_duration(text)
    account.output("RegistryTableName")
    try:
        result = lifecycle.extend(env, seconds, now=account.now())
    except EnvironmentNotFound as exc:
        raise CliError(NOT_FOUND, str(exc)) from None
    except EnvironmentBusy as exc:
        raise CliError(CONFLICT, str(exc)) from None
    except InvalidSpec as exc:
        raise CliError(BAD_INPUT, str(exc)) from None
    left = render.timestamp(result["expires_at"]) or 0.0
    result["time_to_live_left_seconds"] = round(left - account.now())
    return Result(
        result,
        [
            f"{env!r} now expires at {result['expires_at']} "
            f"(in {render.duration(result['time_to_live_left_seconds'])}; "
            f"was {result['previous_expires_at']})"
        ],
    )
