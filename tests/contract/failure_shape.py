"""The one failure shape (fargate_env/failures.py), as a check: what is wrong with a failed
execution's cause or an "Environment Failed" event's detail (nothing, when it is right)."""

from __future__ import annotations

import json
from typing import Any

from fargate_env import failures

#: What an "Environment Failed" event adds to the failure: which execution, which deployment.
EVENT_KEYS = (*failures.KEYS, "execution", "deployment")
#: Signs of a stack trace or of a JSON document quoted inside a value.
FORBIDDEN = ("Traceback", 'File "', '{"', '["', "\\n")


def problems_with(document: Any, keys: tuple[str, ...] = failures.KEYS) -> list[str]:
    """A failure (a cause as JSON text, or an event's detail) checked against the one shape."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return [f"not JSON: {document[:200]!r}"]
    if not isinstance(document, dict):
        return [f"not a JSON object: {document!r}"]
    found: list[str] = []
    if list(document) != list(keys):
        found.append(f"keys {list(document)}, expected {list(keys)}")
    for key, value in document.items():
        if key == "environment" and value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            found.append(f"{key}: {value!r} is not a text")
            continue
        found += [
            f"{key}: contains {sign!r}: {value[:300]!r}" for sign in FORBIDDEN if sign in value
        ]
        if "\n" in value:
            found.append(f"{key}: more than one line: {value[:300]!r}")
    return found
