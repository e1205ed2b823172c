"""The embedded AWS's plugs into moto's Step Functions interpreter that are pure functions."""

from __future__ import annotations

from typing import Any

import pytest

from embedded_aws import plugs


def test_a_definition_is_parsed_once_and_its_program_reused() -> None:
    calls: list[str] = []

    def parse(definition: str) -> tuple[Any, Any]:
        calls.append(definition)
        return object(), object()

    parse_once = plugs._parse_once(parse)
    first = parse_once('{"StartAt": "A", "unique": 1}')
    again = parse_once('{"StartAt": "A", "unique": 1}')
    other = parse_once('{"StartAt": "B", "unique": 1}')

    assert again is first
    assert other is not first
    assert calls == ['{"StartAt": "A", "unique": 1}', '{"StartAt": "B", "unique": 1}']


def test_a_definition_that_does_not_parse_is_refused_every_time() -> None:
    calls: list[str] = []

    def parse(definition: str) -> tuple[Any, Any]:
        calls.append(definition)
        raise ValueError("line 1:0 mismatched input")

    parse_once = plugs._parse_once(parse)
    for _ in range(2):
        with pytest.raises(ValueError, match="mismatched"):
            parse_once('{"broken": 2}')
    assert len(calls) == 2
