"""The library's AWS error helpers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from botocore.exceptions import ClientError

from fargate_env.errors import or_none_on


def aws_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "DescribeSomething")


def raising(exc: Exception) -> Callable[[], dict[str, str]]:
    def call() -> dict[str, str]:
        raise exc

    return call


def test_an_answer_is_returned_as_it_is() -> None:
    assert or_none_on(("NotFound",), lambda: {"Name": "x"}) == {"Name": "x"}


def test_one_of_the_named_codes_is_none() -> None:
    assert or_none_on(("NotFound", "Gone"), raising(aws_error("Gone"))) is None


def test_any_other_error_goes_on() -> None:
    with pytest.raises(ClientError, match="AccessDenied"):
        or_none_on(("NotFound",), raising(aws_error("AccessDenied")))
    with pytest.raises(ValueError, match="not an AWS error"):
        or_none_on(("NotFound",), raising(ValueError("not an AWS error")))
