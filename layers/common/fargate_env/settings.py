"""The deployment's settings: on Lambda its environment variables, for a client a scope.

fenv reads the same settings from its stack's outputs. It sets them in a scope of its own thread
rather than in the process environment, which a Lambda runtime sharing the process (the embedded
AWS) changes around every invocation.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

_scoped: ContextVar[dict[str, str] | None] = ContextVar("fargate_env_settings", default=None)


def get(name: str, default: str = "") -> str:
    """The setting `name`: the scope's value, else the environment's, else `default`."""
    scoped = _scoped.get()
    if scoped is not None and name in scoped:
        return scoped[name]
    return os.environ.get(name, default)


def require(name: str) -> str:
    """The setting `name`, which the deployment must give (KeyError naming it otherwise)."""
    value = get(name)
    if not value:
        raise KeyError(name)
    return value


def put(name: str, value: str) -> None:
    """Set `name` in this thread's scope (in the process environment when there is none)."""
    scoped = _scoped.get()
    if scoped is None:
        os.environ[name] = value
    else:
        scoped[name] = value


@contextmanager
def scope(values: Mapping[str, str] | None = None) -> Iterator[None]:
    """Settings for this thread until the block ends (put adds to them)."""
    scoped = dict(values or {})
    token = _scoped.set(scoped)
    try:
        yield
    finally:
        _scoped.reset(token)
