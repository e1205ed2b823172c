"""boto3 clients: created lazily (after a test's mock starts, after Lambda's init), once per
service and region, with the standard retry mode (throttling and 5xx retried with back-off)."""

from __future__ import annotations

import os
import threading
from functools import cache
from typing import Any, Final, Literal

MAX_SDK_ATTEMPTS: Final = 3
#: The services the layer and the CLI call (boto3's stubs type a client by its literal name).
Service = Literal[
    "acm",
    "cloudformation",
    "dynamodb",
    "ec2",
    "ecs",
    "efs",
    "elbv2",
    "events",
    "iam",
    "lambda",
    "logs",
    "resourcegroupstaggingapi",
    "route53",
    "scheduler",
    "secretsmanager",
    "ssm",
    "stepfunctions",
]
_lock = threading.Lock()


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


@cache
def _config() -> Any:
    from botocore.config import Config

    return Config(
        retries={"mode": "standard", "max_attempts": MAX_SDK_ATTEMPTS},
        user_agent_extra="fargate-env",
        connect_timeout=5,
        read_timeout=30,
    )


_clients: dict[tuple[Service, str], Any] = {}
#: The boto3 session the clients come from, made again after reset_clients.
_sessions: list[Any] = []
#: botocore's data loader, kept for the life of the process: it caches the service models it has
#: read. A new session would read them from disk again (~0.1 s per client); a Lambda cold start
#: creating several clients pays that once.
_loaders: list[Any] = []


def _new_session() -> Any:
    """A session on the process's data loader (call with _lock held)."""
    import boto3
    import botocore.session

    core = botocore.session.get_session()
    if _loaders:
        core.register_component("data_loader", _loaders[0])
    else:
        _loaders.append(core.get_component("data_loader"))
    return boto3.session.Session(botocore_session=core)


def _session() -> Any:
    """The current session (call with _lock held: boto3 sessions are not thread-safe)."""
    if not _sessions:
        _sessions.append(_new_session())
    return _sessions[0]


def new_session() -> Any:
    """A boto3 session of its own (credentials and endpoint resolved when it makes a client)
    that reads no service model the process has read already."""
    with _lock:
        return _new_session()


def session_client(service: Service, region_name: str, **options: Any) -> Any:
    """A new client of the shared session (service models read once per process); the CLI's
    clients are made here too."""
    with _lock:
        return _session().client(service, region_name=region_name, **options)


def client(service: Service) -> Any:
    """The shared client for `service` in the current region."""
    key = (service, region())
    cached = _clients.get(key)
    if cached is not None:
        return cached
    with _lock:  # boto3's session is not thread-safe while creating clients
        cached = _clients.get(key)
        if cached is None:
            cached = _session().client(service, region_name=key[1], config=_config())
            _clients[key] = cached
    return cached


def reset_clients() -> None:
    """Forget cached clients and the session (used when the endpoint or credentials change,
    e.g. between tests): the next client resolves both again. The loaded models are kept."""
    with _lock:
        _clients.clear()
        _sessions.clear()
