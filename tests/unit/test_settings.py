"""A client's settings (fenv's stack outputs) live in its thread's scope: the embedded Lambda
runtime sharing the process sets and unsets the same variables around every invocation."""

from __future__ import annotations

import os
import threading

import pytest

from fargate_env import registry, settings


def test_a_scoped_setting_wins_over_the_environment_and_stays_in_its_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(registry.TABLE_ENV, "from-the-environment")
    seen_elsewhere: list[str] = []

    with settings.scope():
        settings.put(registry.TABLE_ENV, "from-the-stack")
        worker = threading.Thread(target=lambda: seen_elsewhere.append(registry._table()))
        worker.start()
        worker.join()
        # A Lambda invocation in another thread unsets its variables when it returns.
        monkeypatch.delenv(registry.TABLE_ENV)
        assert registry._table() == "from-the-stack"

    assert seen_elsewhere == ["from-the-environment"]
    with pytest.raises(KeyError, match=registry.TABLE_ENV):
        registry._table()


def test_outside_a_scope_put_sets_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FARGATE_ENV_EXAMPLE_SETTING", raising=False)
    settings.put("FARGATE_ENV_EXAMPLE_SETTING", "value")
    try:
        assert os.environ["FARGATE_ENV_EXAMPLE_SETTING"] == "value"
        assert settings.get("FARGATE_ENV_EXAMPLE_SETTING") == "value"
    finally:
        os.environ.pop("FARGATE_ENV_EXAMPLE_SETTING", None)
