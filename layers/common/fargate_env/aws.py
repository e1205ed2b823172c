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


def client(service: Service) -> Any:
    """The shared client for `service` in the current region."""
    key = (service, region())
    cached = _clients.get(key)
    if cached is not None:
        return cached
    with _lock:  # boto3's session is not thread-safe while creating clients
        cached = _clients.get(key)
        if cached is None:
            import boto3

            cached = boto3.session.Session().client(service, region_name=key[1], config=_config())
            _clients[key] = cached
    return cached


def reset_clients() -> None:
    """Forget cached clients (used when the endpoint or credentials change, e.g. between tests)."""
    with _lock:
        _clients.clear()
