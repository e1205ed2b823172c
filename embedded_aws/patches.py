"""Attributes the emulator replaces on other libraries' objects (moto, botocore, socket),
recorded so they can be put back, last first."""

from __future__ import annotations

import inspect
from typing import Any


class Patches:
    def __init__(self) -> None:
        self._undo: list[tuple[Any, str, Any]] = []

    def set(self, owner: Any, name: str, value: Any) -> None:
        # The attribute as stored (a staticmethod stays one when it is put back).
        self._undo.append((owner, name, inspect.getattr_static(owner, name)))
        setattr(owner, name, value)

    def undo(self) -> None:
        while self._undo:
            owner, name, original = self._undo.pop()
            setattr(owner, name, original)
