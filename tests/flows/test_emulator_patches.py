"""The embedded AWS changes other libraries' objects while it runs (moto's backends, the socket
resolver, thread start, the environment); closing it, or a start that fails, puts all of it back."""

from __future__ import annotations

import inspect
import os
import socket
import threading
from typing import Any

import pytest

from embedded_aws import moto_hooks
from embedded_aws.emulator import EmbeddedAWS


def _watched() -> dict[tuple[Any, str], Any]:
    """The attributes the emulator replaces, as stored now."""
    from moto.core.responses import BaseResponse
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    owners = [(owner, method) for owner, method, _hook in moto_hooks.HOOKS]
    owners += [
        (BaseResponse, "call_action"),
        (AmazonStateLanguageParser, "parse"),
        (socket, "getaddrinfo"),
        (threading.Thread, "start"),
    ]
    return {(owner, name): inspect.getattr_static(owner, name) for owner, name in owners}


def test_closing_the_emulator_puts_back_everything_it_replaced() -> None:
    before, environ = _watched(), dict(os.environ)
    with EmbeddedAWS() as aws:
        during = _watched()
        assert aws.provision_arn
    changed = [key for key in before if during[key] is not before[key]]
    assert len(changed) == len(before)  # each one is really replaced while it runs
    assert _watched() == before
    assert dict(os.environ) == environ


def test_a_start_that_fails_puts_back_everything_it_had_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before, environ = _watched(), dict(os.environ)

    def deploy(self: EmbeddedAWS) -> None:
        raise RuntimeError("the stack did not deploy")

    monkeypatch.setattr(EmbeddedAWS, "deploy", deploy)
    with pytest.raises(RuntimeError, match="did not deploy"):
        EmbeddedAWS().start()
    assert _watched() == before
    assert dict(os.environ) == environ
