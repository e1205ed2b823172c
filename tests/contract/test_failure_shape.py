"""The failure-shape check the flow tests apply to every failure they produce (tests/flows/
conftest.py: each failed execution and each "Environment Failed" event), checked itself."""

from __future__ import annotations

import json

import pytest

from fargate_env import failures
from tests.contract.failure_shape import EVENT_KEYS, problems_with
from tests.support import EVENTS

GOOD = failures.shape(
    "demo",
    "Create the service",
    "ServiceUnstable",
    "service fenv-demo cannot become stable: 3 task(s) stopped",
    failures.ROLLED_BACK,
    failures.FIX_AND_RETRY,
)


def test_the_one_shape_passes_as_a_cause_and_as_an_event_detail():
    assert problems_with(json.dumps(GOOD)) == []
    assert problems_with({**GOOD, "environment": None}) == []
    event = {**GOOD, "execution": "arn:aws:states:...:execution:x:y", "deployment": "fargate-env"}
    assert problems_with(event, EVENT_KEYS) == []


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        pytest.param("not json", "not JSON", id="not-json"),
        pytest.param({**GOOD, "cause": "x"}, "keys", id="an-extra-key"),
        pytest.param({k: v for k, v in GOOD.items() if k != "next"}, "keys", id="a-missing-key"),
        pytest.param({**GOOD, "message": "Traceback (most recent call last):"}, "Traceback"),
        pytest.param({**GOOD, "message": 'File "/var/task/app.py", line 3'}, 'File "'),
        pytest.param(
            {**GOOD, "message": json.dumps({"errorMessage": "boom", "stackTrace": []})},
            '{"',
            id="escaped-json-inside",
        ),
        pytest.param({**GOOD, "message": "two\nlines"}, "more than one line"),
        pytest.param({**GOOD, "resources": {"status": "SUCCEEDED"}}, "not a text"),
        pytest.param({**GOOD, "next": ""}, "not a text"),
    ],
)
def test_what_the_shape_forbids_is_found(document, complaint):
    found = problems_with(document)
    assert any(complaint in problem for problem in found), found


def test_the_library_builds_the_shape_from_a_lambda_error_without_its_trace():
    # Given a Lambda error's cause as Step Functions hands it over, stack trace and all
    cause = json.dumps(
        {
            "errorType": "ServiceUnstable",
            "errorMessage": "service fenv-demo cannot\n become stable",
            "stackTrace": ['  File "/var/task/app.py", line 12, in lambda_handler\n'],
        }
    )
    failure = {"failed_step": "Check the service is stable", "error": "ServiceUnstable"}

    # When a provisioning's failure is reported with it
    shaped = failures.of_provisioning(
        {"name": "demo"}, {**failure, "message": failures.message_of(cause)}, None
    )

    # Then it has the one shape, the message on one line, and no trace
    assert problems_with(shaped) == []
    assert shaped["message"] == "service fenv-demo cannot become stable"


def test_a_long_message_is_cut():
    assert len(failures.message_of("x" * 10_000)) == failures.MESSAGE_MAX_CHARACTERS


def test_the_sample_environment_failed_event_has_the_shape():
    sample = json.loads((EVENTS / "eventbridge" / "environment-failed.event.json").read_text())
    assert problems_with(sample["detail"], EVENT_KEYS) == []
