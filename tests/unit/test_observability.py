"""A failed step's stack trace goes to the logs, keyed by the execution: the execution's
failure carries the message alone (failures.py)."""

from __future__ import annotations

import json
import logging

import pytest

from fargate_env import observability
from fargate_env.errors import InvalidSpec


def test_a_failed_step_logs_its_trace_keyed_by_the_execution(caplog):
    @observability.step("some_step")
    def handler(event: dict, context: object) -> None:
        raise InvalidSpec("spec: something is wrong")

    with caplog.at_level(logging.INFO, logger=observability.SERVICE), pytest.raises(InvalidSpec):
        handler({"execution": "execution-1"}, None)

    [record] = [r for r in caplog.records if r.getMessage() == "step failed"]
    logged = json.loads(observability.logger.registered_formatter.format(record))
    assert logged["correlation_id"] == "execution-1"
    assert logged["error"] == "InvalidSpec"
    assert "Traceback" in logged["exception"]
