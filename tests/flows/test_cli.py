"""fenv against the embedded AWS: every command, its JSON output, its exit codes, and each error
a user can meet as one line on stderr (never a traceback)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from embedded_aws.faults import Faults, Hold, StepFault
from fenv_cli import errors
from fenv_cli.app import main
from fenv_cli.progress import LiveLine, Progress
from tests.flows.request_times import at


def fenv(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    """Run `fenv --output json ARGV`: (exit code, parsed stdout, stderr)."""
    code = main(["--output", "json", *argv])
    captured = capsys.readouterr()
    out = captured.out.strip()
    return code, json.loads(out) if out else None, captured.err


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def spec_file(tmp_path: Path, spec: dict[str, Any]) -> str:
    path = tmp_path / f"{spec['name']}.json"
    path.write_text(json.dumps({"spec": spec}))
    return str(path)


def test_an_environment_from_up_to_down(embedded, env_name, tmp_path, capsys):
    path = spec_file(tmp_path, {"name": env_name, "time_to_live_minutes": 60})

    code, up, _ = fenv(capsys, "up", path)
    assert code == errors.OK
    assert up["status"] == "SUCCEEDED"
    assert up["answers"][0]["status"] == 200  # the URL answered fenv itself
    url = f"http://fenv-{env_name}-web-1.us-east-1.elb.amazonaws.com/"
    assert up["url"] == url

    code, status, _ = fenv(capsys, "status", env_name)
    assert code == errors.OK
    assert status["status"] == "READY"
    assert status["url"] == url
    assert status["image"] == "nginx:latest"
    assert status["task_definition"] == f"fenv-{env_name}:1"
    assert status["last_execution"]["arn"] == up["execution_arn"]
    assert status["last_execution"]["status"] == "SUCCEEDED"
    assert 0 < status["time_to_live_left_seconds"] <= 3600
    assert status["cost"]["hourly_usd"] > 0
    assert status["cost"]["so_far_usd"] > 0

    code, extended, _ = fenv(capsys, "extend", env_name, "2h")
    assert code == errors.OK
    assert extended["time_to_live_left_seconds"] == pytest.approx(
        status["time_to_live_left_seconds"] + 7200, abs=60
    )

    code, listed, _ = fenv(capsys, "list")
    assert code == errors.OK
    assert [e["status"] for e in listed if e["name"] == env_name] == ["READY"]

    code, logs, _ = fenv(capsys, "logs", env_name)
    assert code == errors.OK
    messages = [event["message"] for event in logs]
    assert any("ready for start up" in message for message in messages)  # the task started
    assert any('"GET / HTTP/1.1" 200' in message for message in messages)  # and served

    code, down, _ = fenv(capsys, "down", env_name)
    assert code == errors.OK
    assert down["status"] == "SUCCEEDED"
    assert down["deleted_count"] > 0
    assert embedded.remaining(env_name) == []

    code, listed, _ = fenv(capsys, "list")
    assert env_name not in [e["name"] for e in listed]  # DELETED is hidden...
    code, listed, _ = fenv(capsys, "list", "--all")
    assert [e["status"] for e in listed if e["name"] == env_name] == ["DELETED"]  # ...unless asked

    code, history, _ = fenv(capsys, "history", env_name)
    assert code == errors.OK
    assert [(e["kind"], e["status"]) for e in history] == [
        ("teardown", "SUCCEEDED"),
        ("provision", "SUCCEEDED"),
    ]
    assert all(e["duration_seconds"] > 0 for e in history)
    assert history[1]["outcome"] == f"ready at {url}"


def test_up_without_waiting_then_wait(embedded, env_name, tmp_path, capsys):
    path = spec_file(tmp_path, {"name": env_name})

    code, started, _ = fenv(capsys, "up", path, "--no-wait")
    assert code == errors.OK
    assert started["status"] == "RUNNING"
    assert started["execution_arn"].startswith(
        embedded.provision_arn.replace("stateMachine", "execution")
    )

    code, waited, err = fenv(capsys, "wait", env_name)
    assert code == errors.OK, err
    assert waited["status"] == "READY"

    # It exists: `up` again with a new image updates it in place (the stack's update flow)
    image = "public.ecr.aws/nginx/nginx:1.27"
    path = spec_file(tmp_path, {"name": env_name, "container": {"image": image}})
    code, updated, err = fenv(capsys, "up", path)
    assert code == errors.OK, err
    assert (updated["action"], updated["status"]) == ("update", "SUCCEEDED")
    assert updated["execution_arn"].startswith(
        embedded.update_arn.replace("stateMachine", "execution")
    )
    assert updated["answers"][0]["status"] == 200
    code, status, _ = fenv(capsys, "status", env_name)
    assert (status["status"], status["image"]) == ("READY", image)
    assert status["task_definition"] == f"fenv-{env_name}:2"

    assert fenv(capsys, "down", env_name)[0] == errors.OK


def test_up_takes_the_environment_and_the_image_from_the_command_line(
    embedded, env_name, tmp_path, capsys
):
    # Given one spec file for every pull request (the preview workflow's)
    path = spec_file(tmp_path, {"name": "preview", "container": {"image": "nginx:latest"}})
    first, second = "public.ecr.aws/nginx/nginx:1.27", "public.ecr.aws/nginx/nginx:1.28"

    # When `up` names the environment and the commit's image
    code, up, err = fenv(capsys, "up", path, "--environment", env_name, "--image", first)

    # Then that environment is created with that image; the spec's own name is never made
    assert code == errors.OK, err
    assert (up["name"], up["action"]) == (env_name, "create")
    code, status, _ = fenv(capsys, "status", env_name)
    assert (status["status"], status["image"]) == ("READY", first)
    assert fenv(capsys, "status", "preview")[0] == errors.NOT_FOUND
    capsys.readouterr()

    # And the next commit's image updates it in place
    code, updated, err = fenv(capsys, "up", path, "--environment", env_name, "--image", second)
    assert code == errors.OK, err
    assert updated["action"] == "update"
    code, status, _ = fenv(capsys, "status", env_name)
    assert (status["image"], status["task_definition"]) == (second, f"fenv-{env_name}:2")

    assert fenv(capsys, "down", env_name)[0] == errors.OK
    assert embedded.remaining(env_name) == []


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--environment", "PR_42", "name: "),
        ("--image", "bad image!", "container.image: "),
    ],
)
def test_a_bad_override_is_refused_like_the_spec_field_it_replaces(
    embedded, tmp_path, capsys, option, value, expected
):
    path = spec_file(tmp_path, {"name": "preview"})
    before = embedded.client("stepfunctions").list_executions(
        stateMachineArn=embedded.provision_arn
    )["executions"]

    code, _, err = fenv(capsys, "up", path, option, value)

    assert code == errors.BAD_INPUT
    assert one_line(err).startswith(f"fenv: {path} (with {option} {value!r}): invalid")
    assert expected in one_line(err)
    after = embedded.client("stepfunctions").list_executions(
        stateMachineArn=embedded.provision_arn
    )["executions"]
    assert len(after) == len(before)  # nothing was started


def test_a_teardown_superseded_by_a_later_create_changes_nothing_and_exits_5(
    embedded, env_name, capsys
):
    # Given an environment whose create was requested a minute from now (another producer's
    # clock, a little ahead)
    later = {"spec": {"name": env_name}, "requested_at": at(embedded, 60)}
    arn = embedded.start_execution(embedded.provision_arn, later, f"later-{env_name}")
    assert embedded.wait(arn).status == "SUCCEEDED"

    # When fenv tears it down now: its request is older than the create's
    code, down, _ = fenv(capsys, "down", env_name)

    # Then nothing was deleted, and fenv says why
    assert code == errors.CONFLICT
    assert down["status"] == "SUCCEEDED"
    assert down["outcome"].startswith(f"superseded: a create of '{env_name}' was requested at")
    assert fenv(capsys, "status", env_name)[1]["status"] == "READY"
    cleanup = {"name": env_name, "requested_at": at(embedded, 120)}
    arn = embedded.start_execution(embedded.teardown_arn, cleanup, f"cleanup-{env_name}")
    assert embedded.wait(arn).status == "SUCCEEDED"
    assert embedded.remaining(env_name) == []


def test_up_while_a_teardown_runs_creates_once_it_has_ended(embedded, env_name, tmp_path, capsys):
    # Given a teardown of the name, held before it finds anything
    held = Hold("find_environment_resources")
    embedded.reconfigure(faults=Faults(holds=[held]))
    teardown = embedded.start_execution(embedded.teardown_arn, {"name": env_name}, env_name)
    assert held.reached.wait(60)
    assert fenv(capsys, "status", env_name)[1]["status"] == "DELETING"

    # When fenv up is asked for it a second later (before: refused, the name being DELETING)
    embedded.clock.advance(1.0)
    code, started, _ = fenv(capsys, "up", spec_file(tmp_path, {"name": env_name}), "--no-wait")
    held.release()

    # Then it starts, waits for the teardown to end, and creates the environment
    assert code == errors.OK
    assert embedded.wait(teardown).status == "SUCCEEDED"
    assert embedded.wait(started["execution_arn"]).output["outcome"] == "ready"
    assert fenv(capsys, "down", env_name)[0] == errors.OK


def test_a_failed_creation_exits_1_naming_the_step(embedded, env_name, tmp_path, capsys):
    embedded.reconfigure(faults=Faults(steps=[StepFault(step="create_service", when="after")]))

    code, up, _ = fenv(capsys, "up", spec_file(tmp_path, {"name": env_name}))

    assert code == errors.FAILED
    assert up["status"] == "FAILED"
    assert up["outcome"] == (
        "Create the service: InjectedFault: create_service: fault injected after its work"
    )
    # people read the failure in words: what happened to the resources, what to do next
    assert main(["up", spec_file(tmp_path, {"name": env_name})]) == errors.FAILED
    printed = capsys.readouterr().out.splitlines()
    assert printed[-3] == (
        "create FAILED: Create the service: InjectedFault: create_service: fault injected after "
        "its work"
    )
    assert printed[-2].startswith("resources: rolled back: ")
    assert printed[-1] == "next: Fix the cause, then start the provisioning again."
    code, status, _ = fenv(capsys, "status", env_name)
    assert status["status"] == "FAILED"
    assert embedded.remaining(env_name) == []


def test_validate_shows_the_normalised_spec_and_its_cost(capsys, tmp_path):
    code, validated, _ = fenv(capsys, "validate", spec_file(tmp_path, {"name": "valid"}))

    assert code == errors.OK
    assert validated["spec"]["container"]["image"] == "nginx:latest"
    assert validated["cost"]["hourly"] == pytest.approx(
        sum(item["hourly"] for item in validated["cost"]["items"]), abs=1e-5
    )
    main(["validate", spec_file(tmp_path, {"name": "valid"})])
    assert "estimated cost: $0.05" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (json.dumps({"spec": {"name": "Bad_Name"}}), "name: must be lowercase"),
        # the same size bounds as the provisioning's first step
        (
            json.dumps(
                {
                    "spec": {
                        "name": "big",
                        "container": {"environment": dict.fromkeys(("A", "B", "C"), "x" * 32768)},
                    }
                }
            ),
            "spec: ",
        ),
        (
            json.dumps(
                {
                    "spec": {
                        "name": "envs",
                        "container": {"environment": {f"V{i:04d}": "v" * 12 for i in range(1700)}},
                    }
                }
            ),
            "container.environment: the task definition ECS would receive",
        ),
    ],
)
def test_a_bad_spec_file_is_one_line_and_exit_2(embedded, tmp_path, capsys, content, expected):
    path = tmp_path / "spec.json"
    if content is not None:
        path.write_text(content)
    executions = embedded.client("stepfunctions").list_executions(
        stateMachineArn=embedded.provision_arn
    )["executions"]

    for command in ("validate", "up"):
        code, body, err = fenv(capsys, command, str(path))
        assert code == errors.BAD_INPUT
        assert expected in one_line(err)
        assert one_line(err).startswith(f"fenv: {path}")  # names the file
        assert body["exit_code"] == errors.BAD_INPUT

    after = embedded.client("stepfunctions").list_executions(
        stateMachineArn=embedded.provision_arn
    )["executions"]
    assert len(after) == len(executions)  # nothing was started


@pytest.mark.parametrize(
    ("argv", "code", "expected"),
    [
        (["status", "nosuchenv"], errors.NOT_FOUND, "no environment named 'nosuchenv'"),
        (["down", "nosuchenv"], errors.NOT_FOUND, "no environment named 'nosuchenv'"),
        (["logs", "nosuchenv"], errors.NOT_FOUND, "no environment named 'nosuchenv'"),
        (["history", "nosuchenv"], errors.NOT_FOUND, "no environment or execution named"),
        (["extend", "nosuchenv", "1h"], errors.NOT_FOUND, "no environment named 'nosuchenv'"),
        (["wait", "nosuchenv"], errors.NOT_FOUND, "no environment or running execution"),
        (["extend", "nosuchenv", "soon"], errors.BAD_INPUT, "duration: 'soon' is not a duration"),
        (["--stack", "other", "list"], errors.NOT_FOUND, "stack 'other' not found in us-east-1"),
    ],
)
def test_what_is_not_there_is_one_line(embedded, capsys, argv, code, expected):
    status, body, err = fenv(capsys, *argv)

    assert status == code
    assert expected in one_line(err)
    assert body == {"error": one_line(err).removeprefix("fenv: "), "exit_code": code}


def test_aws_problems_are_one_line_and_exit_4(embedded, capsys, monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION")
    code, _, err = fenv(capsys, "list")
    assert code == errors.AWS_UNAVAILABLE
    assert "no AWS region" in one_line(err)

    # A closed local port: nothing listens there (no request leaves this machine).
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    code, _, err = fenv(
        capsys, "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9", "list"
    )
    assert code == errors.AWS_UNAVAILABLE
    assert "cannot reach AWS at http://127.0.0.1:9" in one_line(err)

    code, _, err = fenv(capsys, "--region", "us-east-1", "--profile", "nosuchprofile", "list")
    assert code == errors.AWS_UNAVAILABLE
    assert "profile not found" in one_line(err)


def test_no_credentials_is_one_line_and_exit_4(capsys, monkeypatch, tmp_path):
    # No mock and no credentials: botocore refuses before any request is made.
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    code, _, err = fenv(capsys, "--region", "us-east-1", "list")

    assert code == errors.AWS_UNAVAILABLE
    assert "no AWS credentials" in one_line(err)


def test_usage_errors_are_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["status"])
    assert exited.value.code == errors.BAD_INPUT
    assert "required: NAME" in one_line(capsys.readouterr().err)


def test_every_command_and_option_has_help(capsys):
    from fenv_cli.app import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert set(commands) == {
        "up",
        "down",
        "status",
        "list",
        "history",
        "logs",
        "extend",
        "validate",
        "wait",
        "reconcile",
    }
    for name, sub in commands.items():
        assert sub.description, name
        for action in sub._actions:
            assert action.help, f"{name} {action.option_strings or action.dest}"


def test_progress_is_a_live_line_on_a_terminal_and_plain_lines_when_piped():
    terminal = io.StringIO()
    live = LiveLine(terminal)
    live.status("[   1.0s] running: Create the service")
    live.write("[   2.0s] Create the service   ok   1.0s")
    live.close()
    assert "\r\033[K" in terminal.getvalue()

    plain: list[str] = []
    progress = Progress(start=0.0, write=plain.append)
    from datetime import UTC, datetime

    at = datetime.fromtimestamp(2.0, tz=UTC)
    progress.feed(
        {
            "id": 1,
            "type": "TaskStateEntered",
            "timestamp": at,
            "stateEnteredEventDetails": {"name": "Create the service"},
        }
    )
    assert progress.running().endswith("running: Create the service")
    progress.feed(
        {
            "id": 2,
            "previousEventId": 1,
            "type": "TaskStateExited",
            "timestamp": at,
            "stateExitedEventDetails": {"name": "Create the service"},
        }
    )
    assert len(plain) == 1
    assert "\033" not in plain[0]
    assert "Create the service" in plain[0]


def test_debug_adds_the_traceback(embedded, capsys):
    assert main(["status", "nosuchenv"]) == errors.NOT_FOUND
    assert "Traceback" not in capsys.readouterr().err

    assert main(["--debug", "status", "nosuchenv"]) == errors.NOT_FOUND
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert (
        err.strip().splitlines()[-1]
        == "fenv: no environment named 'nosuchenv' (fenv list shows them)"
    )


def test_up_while_an_update_runs_says_to_wait_and_wait_follows_the_update(
    embedded, env_name, tmp_path, capsys
):
    # Given a READY environment and an update of it held at its rollout
    path = spec_file(tmp_path, {"name": env_name})
    assert fenv(capsys, "up", path)[0] == errors.OK
    held = Hold("roll_out_update")
    embedded.reconfigure(faults=Faults(holds=[held]))
    spec = {"name": env_name, "container": {"image": "public.ecr.aws/nginx/nginx:1.27"}}
    arn = embedded.start_execution(embedded.update_arn, {"spec": spec}, f"held-{env_name}")
    assert held.reached.wait(60)

    # When fenv up is run meanwhile / Then it says the environment is being updated
    code, _, err = fenv(capsys, "up", path)
    assert code == errors.CONFLICT
    assert f"is UPDATING (being updated): fenv wait {env_name}" in one_line(err)

    # And fenv wait follows the update to its end
    held.release()
    code, waited, err = fenv(capsys, "wait", env_name)
    assert code == errors.OK, err
    assert waited["status"] == "READY"
    assert embedded.wait(arn).status == "SUCCEEDED"
    assert fenv(capsys, "down", env_name)[0] == errors.OK
