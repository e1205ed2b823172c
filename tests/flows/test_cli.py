"""The CLI (python -m fenv_cli) against the embedded AWS: validate, provision, status, teardown."""

from __future__ import annotations

import json

from fenv_cli.__main__ import main


def test_the_cli_validates_provisions_reports_and_tears_down(embedded, env_name, tmp_path, capsys):
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps({"spec": {"name": env_name}}))

    assert main(["provision", str(spec_file), "--wait", "--execution-name", f"cli-{env_name}"]) == 0
    provisioned = capsys.readouterr().out
    assert "Create the service" in provisioned  # progress per state
    assert f"http://fenv-{env_name}-web-1.us-east-1.elb.amazonaws.com/" in provisioned

    assert main(["status", env_name]) == 0
    assert "READY" in capsys.readouterr().out

    assert main(["teardown", env_name, "--wait"]) == 0
    assert "SUCCEEDED" in capsys.readouterr().out
    assert embedded.remaining(env_name) == []


def test_an_invalid_spec_is_rejected_before_anything_starts(embedded, tmp_path, capsys):
    spec_file = tmp_path / "bad.json"
    spec_file.write_text(json.dumps({"spec": {"name": "Bad_Name"}}))
    executions_before = len(
        embedded.client("stepfunctions").list_executions(stateMachineArn=embedded.provision_arn)[
            "executions"
        ]
    )

    assert main(["provision", str(spec_file), "--wait"]) == 1

    assert "name: must be lowercase" in capsys.readouterr().err
    executions_after = embedded.client("stepfunctions").list_executions(
        stateMachineArn=embedded.provision_arn
    )["executions"]
    assert len(executions_after) == executions_before
