"""The template as CloudFormation receives it, for the linters `make check` runs on it.

    python -m tools.check_template translate .aws-sam/check/translated.json
    python -m tools.check_template skips

`translate` writes template.yaml translated to CloudFormation (aws-sam-translator, offline, via
embedded_aws.template.translate) with each state machine's definition as an object (property
Definition, not a DefinitionString): cfn-lint then checks the ASL against its schema (E3601)
and the substitutions' references. The checkov skips written as comments in template.yaml
(`# checkov:skip=CKV_X:reason` inside a resource) are carried to the resources they produce as
`Metadata: checkov: skip`, so the translated file is scanned with the same, justified, skips.

`skips` lists the skips and fails when one has no real reason (fewer than MIN_REASON_WORDS words).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedded_aws import template as template_module

REGION = "us-east-1"
MIN_REASON_WORDS = 6
SKIP_COMMENT = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+):(.*)$")
RESOURCE_KEY = re.compile(r"^  ([A-Za-z0-9]+):\s*$")
SECTION_KEY = re.compile(r"^[A-Za-z]")


@dataclass(frozen=True)
class Skip:
    resource: str
    check: str
    reason: str
    line: int


def skips(text: str) -> list[Skip]:
    """Every `# checkov:skip=` comment of the Resources section, with the resource it is in."""
    found = []
    in_resources = False
    resource = None
    for number, line in enumerate(text.splitlines(), start=1):
        if SECTION_KEY.match(line):
            in_resources = line.startswith("Resources:")
            resource = None
            continue
        key = RESOURCE_KEY.match(line)
        if in_resources and key:
            resource = key.group(1)
            continue
        comment = SKIP_COMMENT.search(line)
        if comment:
            if not in_resources or resource is None:
                raise ValueError(f"line {number}: a checkov skip outside any resource")
            found.append(Skip(resource, comment.group(1), comment.group(2).strip(), number))
    return found


def _produced_by(sam_id: str, cfn_id: str, cfn_type: str) -> bool:
    """Whether CloudFormation resource `cfn_id` is the one SAM produced for `sam_id` (SAM keeps
    the logical id of the main resource: Function -> Lambda::Function, and so on)."""
    return cfn_id == sam_id and not cfn_type.startswith("AWS::Serverless::")


def translated(template_path: Path = template_module.TEMPLATE_PATH) -> dict[str, Any]:
    root = template_path.parent
    sam = template_module.load_sam_template(template_path)
    cloudformation = template_module.translate(sam, REGION, root)
    definitions = template_module.state_machine_definitions(sam, root)
    for logical_id, resource in cloudformation["Resources"].items():
        if resource["Type"] == "AWS::StepFunctions::StateMachine":
            props = resource["Properties"]
            props.pop("DefinitionString", None)
            props["Definition"] = definitions[logical_id]
    for skip in skips(template_path.read_text()):
        targets = [
            resource
            for logical_id, resource in cloudformation["Resources"].items()
            if _produced_by(skip.resource, logical_id, resource["Type"])
        ]
        if not targets:
            raise ValueError(f"checkov skip for {skip.resource}: no such translated resource")
        for resource in targets:
            entries = resource.setdefault("Metadata", {}).setdefault("checkov", {})
            entries.setdefault("skip", []).append({"id": skip.check, "comment": skip.reason})
    return cloudformation


def _translate(out: Path) -> int:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(translated(), indent=1, sort_keys=False) + "\n")
    print(f"wrote {out} (state machine definitions as objects, checkov skips as Metadata)")
    return 0


def _skips() -> int:
    found = skips(template_module.TEMPLATE_PATH.read_text())
    by_reason: dict[tuple[str, str], list[str]] = {}
    weak = [s for s in found if len(s.reason.split()) < MIN_REASON_WORDS]
    for skip in found:
        by_reason.setdefault((skip.check, skip.reason), []).append(skip.resource)
    for (check, reason), resources in sorted(by_reason.items()):
        print(f"{check} x{len(resources)}: {reason}")
    for skip in weak:
        print(f"template.yaml:{skip.line}: {skip.check} on {skip.resource} needs a reason")
    return 1 if weak else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.check_template")
    commands = parser.add_subparsers(dest="command", required=True)
    translate = commands.add_parser("translate", help="write the translated template")
    translate.add_argument("out", type=Path)
    commands.add_parser("skips", help="list the checkov skips; fail on one without a reason")
    args = parser.parse_args(argv)
    if args.command == "translate":
        return _translate(args.out)
    return _skips()


if __name__ == "__main__":
    sys.exit(main())
