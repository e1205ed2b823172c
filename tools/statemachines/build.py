"""Write statemachine/*.asl.json from the builder, or (--check) fail when they differ; either
way, refuse when a bound does not nest or a JSONata expression does not compile."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from embedded_aws import asl_validation
from embedded_aws import template as template_module
from fargate_env import bounds, spec
from tools.statemachines import bounds_check, gateways, provision, teardown, update
from tools.statemachines import reconcile as reconcile_machine
from tools.statemachines.bounds_check import Analysis, Cost

STATEMACHINE_DIR = template_module.REPO_ROOT / "statemachine"
Json = dict[str, Any]


def definitions() -> dict[str, Json]:
    return {
        "reconcile": reconcile_machine.definition(),
        "provision": provision.definition(),
        "teardown": teardown.definition(),
        "update": update.definition(),
        "gateways": gateways.definition(),
    }


def render(definition: Json) -> str:
    return json.dumps(definition, indent=2, ensure_ascii=False) + "\n"


def worst_cases(machines: dict[str, Json]) -> dict[str, Cost]:
    """Each machine's worst case, and the teardown's when it runs as a rollback."""
    items = int(spec.json_schema()["properties"]["load_balancers"]["maxItems"])
    cases = {"provision": provision.loops(), "teardown": teardown.loops(), "update": update.loops()}
    cases["reconcile"] = reconcile_machine.loops()
    worst = {case: Analysis(loops, items).machine(machines[case]) for case, loops in cases.items()}
    rollback = Analysis(teardown.loops(rollback=True), items).machine(machines["teardown"])
    # The gateways machine maps over at most MAX_GATEWAYS_PER_RUN gateways.
    maintenance = Analysis(gateways.loops(), bounds.MAX_GATEWAYS_PER_RUN)
    return {**worst, "rollback": rollback, "gateways": maintenance.machine(machines["gateways"])}


def problems(machines: dict[str, Json], function_timeouts: dict[str, int]) -> list[str]:
    """Everything that would make the machines wrong to deploy."""
    found: list[str] = []
    worst = worst_cases(machines)
    for machine, definition in machines.items():
        found += [f"{machine}: {p}" for p in asl_validation.definition_problems(definition)]
        found += bounds_check.task_timeout_problems(machine, definition, function_timeouts)
        found += bounds_check.fit_problems(machine, definition, worst[machine])
    rollback = machines["provision"]["States"][provision.ROLLBACK]
    found += bounds_check.nested_problems(
        "provision", provision.ROLLBACK, rollback, "teardown", worst["rollback"]
    )
    return found


def function_timeouts() -> dict[str, int]:
    functions = template_module.functions(template_module.load_sam_template()).values()
    return {function.logical_id: function.timeout for function in functions}


def main(argv: Sequence[str] | None = None, directory: Path = STATEMACHINE_DIR) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.statemachines", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when the files differ")
    args = parser.parse_args(argv)
    machines = definitions()
    refused = problems(machines, function_timeouts())
    if refused:
        print("refusing to write the state machines:", *refused, sep="\n  ", file=sys.stderr)
        return 1
    for name, cost in worst_cases(machines).items():
        print(f"{name}: worst case {cost.seconds:,.0f} s, {cost.events:,} history events")
    paths = {machine: directory / f"{machine}.asl.json" for machine in machines}
    written = {
        machine: path.read_text() if path.exists() else "" for machine, path in paths.items()
    }
    stale = [machine for machine in machines if written[machine] != render(machines[machine])]
    if args.check:
        for machine in stale:
            print(f"{paths[machine]} differs from the builder: run `make asl`")
        return 1 if stale else 0
    for machine in stale:
        paths[machine].write_text(render(machines[machine]))
        print(f"wrote {paths[machine]}")
    return 0
