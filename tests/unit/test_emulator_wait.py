"""EmbeddedAWS.wait reads an execution's end as moto writes it: status first, output after."""

from __future__ import annotations

import datetime as dt

from embedded_aws.emulator import EmbeddedAWS

STARTED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


class Answers:
    """describe_execution answering from a script, then repeating its last answer."""

    def __init__(self, *answers: dict) -> None:
        self.answers = list(answers)

    def describe_execution(self, executionArn: str) -> dict:
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return {"startDate": STARTED, "stopDate": STARTED, **answer}


def waited(monkeypatch, *answers: dict):
    aws = EmbeddedAWS()
    monkeypatch.setattr(aws, "client", lambda service: Answers(*answers))
    return aws.wait("arn:aws:states:us-east-1:123456789012:execution:m:e")


def test_a_success_whose_output_is_still_being_written_is_read_with_its_output(monkeypatch):
    execution = waited(
        monkeypatch,
        {"status": "RUNNING"},
        {"status": "SUCCEEDED"},  # moto: status set, output not yet
        {"status": "SUCCEEDED", "output": '{"url": "http://x/"}'},
    )

    assert (execution.status, execution.output) == ("SUCCEEDED", {"url": "http://x/"})


def test_a_success_without_output_still_ends(monkeypatch):
    execution = waited(monkeypatch, {"status": "SUCCEEDED"})

    assert (execution.status, execution.output) == ("SUCCEEDED", None)
