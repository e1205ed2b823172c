"""The layer's SDK clients (fargate_env/aws.py): one session, its service models read once per
process, credentials and endpoint resolved again after reset_clients."""

from __future__ import annotations

from typing import Any

import pytest

from fargate_env import aws


@pytest.fixture
def fresh_clients() -> Any:
    aws.reset_clients()
    yield
    aws.reset_clients()


def _access_key(client: Any) -> str:
    return str(client._request_signer._credentials.access_key)


def test_clients_of_two_services_share_the_loaded_models(fresh_clients: None) -> None:
    ecs, logs = aws.client("ecs"), aws.client("logs")

    assert aws.client("ecs") is ecs  # cached per service and region
    # One session: its loader (the models it has read) serves both.
    assert ecs._loader is logs._loader
    assert aws.session_client("scheduler", "us-east-1")._loader is ecs._loader


def test_a_reset_resolves_the_credentials_again_and_keeps_the_models(
    fresh_clients: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "first")
    before = aws.client("ecs")

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "second")
    assert _access_key(aws.client("ecs")) == "first"  # the cached client keeps its own
    aws.reset_clients()
    after = aws.client("ecs")

    assert after is not before
    assert _access_key(before) == "first"
    assert _access_key(after) == "second"
    assert after._loader is before._loader  # nothing read from disk again


def test_a_new_session_is_its_own_and_reads_no_model_again(
    fresh_clients: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = aws.client("ecs")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "after")

    own = aws.new_session().client("ecs", region_name="us-east-1")

    assert _access_key(own) == "after"  # resolved when it made its client
    assert _access_key(aws.client("ecs")) != "after"  # the shared session is left as it was
    assert own._loader is shared._loader
