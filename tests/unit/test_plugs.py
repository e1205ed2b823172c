"""The embedded AWS's plugs into moto's Step Functions interpreter that work on their own: the
parse memo and the pool of compiled JSONata."""

from __future__ import annotations

import threading
import types
from collections.abc import Callable
from typing import Any, ClassVar

import pytest

from embedded_aws import plugs
from embedded_aws.plugs import CompiledJsonata


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


class _Compiled:
    """A stand-in for jsonata.Jsonata that records where it is compiled and evaluated."""

    CURRENT = threading.local()
    made: ClassVar[list[_Compiled]] = []

    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.in_use = False
        self.nested: Callable[[], Any] | None = None
        _Compiled.made.append(self)

    def set_output_convert_nulls(self, convert: bool) -> None:
        self.convert = convert

    def evaluate(self, data: Any, bindings: dict[str, Any] | None) -> Any:
        assert not self.in_use, "one instance evaluated twice at once"
        assert _Compiled.CURRENT.jsonata is self  # higher-order functions apply through it
        self.in_use = True
        try:
            return (self.nested() if self.nested else None, dict(bindings or {}))
        finally:
            self.in_use = False


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> CompiledJsonata:
    compiled = CompiledJsonata(limit=2)
    monkeypatch.setattr(compiled, "_jsonata", types.SimpleNamespace(Jsonata=_Compiled))
    _Compiled.made = []
    return compiled


def test_a_compiled_expression_serves_later_threads_without_compiling_again(
    pool: CompiledJsonata,
) -> None:
    assert pool.evaluate("$x", {"x": 1}) == (None, {"x": 1})
    on_another_thread: list[Any] = []
    thread = threading.Thread(target=lambda: on_another_thread.append(pool.evaluate("$x")))
    thread.start()
    thread.join()

    assert on_another_thread == [(None, {})]
    assert len(_Compiled.made) == 1


def test_an_instance_in_use_is_never_lent_again_until_it_is_back(pool: CompiledJsonata) -> None:
    pool.evaluate("$x")
    first = _Compiled.made[0]
    # While `first` evaluates, the same expression is asked for again (as another thread would).
    first.nested = lambda: pool.evaluate("$x")

    pool.evaluate("$x")

    assert len(_Compiled.made) == 2
    assert _Compiled.made[1] is not first
    first.nested = None
    pool.evaluate("$x")
    pool.evaluate("$x")
    assert len(_Compiled.made) == 2  # both back, both reused


def test_expressions_beyond_the_limit_are_compiled_each_time(pool: CompiledJsonata) -> None:
    for expression in ("$a", "$b", "$c", "$c", "$a"):
        pool.evaluate(expression)

    assert [made.expression for made in _Compiled.made] == ["$a", "$b", "$c", "$c"]
