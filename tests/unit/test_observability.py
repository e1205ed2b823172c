"""A failed step's stack trace goes to the logs, keyed by the execution: the execution's
failure carries the message alone (failures.py)."""

from __future__ import annotations

import json
import logging

import pytest

from fargate_env import observability
from fargate_env.errors import InvalidSpec
from tests.support import FakeContext


def test_a_failed_step_logs_its_trace_keyed_by_the_execution(caplog):
    @observability.step("some_step")
    def handler(event: dict, context: object) -> None:
        raise InvalidSpec("spec: something is wrong")

    with caplog.at_level(logging.INFO, logger=observability.SERVICE), pytest.raises(InvalidSpec):
        handler({"execution_name": "execution-1"}, FakeContext())

    [record] = [r for r in caplog.records if r.getMessage() == "step failed"]
    logged = json.loads(observability.logger.registered_formatter.format(record))
    assert logged["correlation_id"] == "execution-1"
    assert logged["error"] == "InvalidSpec"
    assert "Traceback" in logged["exception"]


def test_each_invocation_flushes_one_record_and_the_first_counts_a_cold_start(capsys, monkeypatch):
    from aws_lambda_powertools.metrics.provider import cold_start

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.setattr(cold_start, "is_cold_start", True)

    @observability.step("some_step")
    def handler(event: dict, context: object) -> str:
        return "done"

    assert handler({"execution_name": "execution-1"}, FakeContext()) == "done"
    assert handler({"execution_name": "execution-1"}, FakeContext()) == "done"

    records = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    names = [
        [m["Name"] for d in r["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]] for r in records
    ]
    assert ["ColdStart"] in names  # its own record, with the function's name
    steps = [r for r in records if r.get("step") == "some_step"]
    assert len(steps) == 2
    assert all(set(r) >= {"StepDuration", "StepSucceeded"} for r in steps)


def test_with_metrics_disabled_nothing_is_printed(capsys, monkeypatch):
    # (the demo and the CLI print the embedded AWS's progress on the same stdout)
    from aws_lambda_powertools.metrics.provider import cold_start

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.setattr(cold_start, "is_cold_start", True)

    @observability.step("some_step")
    def handler(event: dict, context: object) -> str:
        return "done"

    assert handler({"execution_name": "execution-1"}, FakeContext()) == "done"
    assert capsys.readouterr().out == ""
