"""Reading the state machine definitions: the states, the Lambda steps behind Task states."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from samtranslator.yaml_helper import yaml_parse

from tests.support import REPO_ROOT

TEMPLATE = yaml_parse((REPO_ROOT / "template.yaml").read_text())


def definition(name: str) -> dict[str, Any]:
    return dict(json.loads((REPO_ROOT / "statemachine" / f"{name}.asl.json").read_text()))


def walk_states(machine: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state, including those inside Parallel branches and Map item processors."""
    for name, state in machine["States"].items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from walk_states(branch)
        if "ItemProcessor" in state:
            yield from walk_states(state["ItemProcessor"])
        if "Iterator" in state:
            yield from walk_states(state["Iterator"])


def step_of(state: dict[str, Any]) -> str | None:
    """functions/<step> behind a Lambda Task state (None for other Tasks)."""
    function = state.get("Arguments", {}).get("FunctionName", "")
    if not (function.startswith("${") and function.endswith("FunctionArn}")):
        return None
    logical_id = function[2 : -len("Arn}")]
    code_uri = TEMPLATE["Resources"][logical_id]["Properties"]["CodeUri"]
    return str(code_uri).rstrip("/").split("/")[-1]


def lambda_tasks(name: str) -> list[tuple[str, str]]:
    """(state name, step) of every Lambda Task state of a machine."""
    return [
        (state_name, step)
        for state_name, state in walk_states(definition(name))
        if state["Type"] == "Task" and (step := step_of(state)) is not None
    ]
