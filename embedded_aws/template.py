"""The SAM template as CloudFormation would receive it, and what the emulator needs from it."""

from __future__ import annotations

import copy
import hashlib
import json
import string
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from embedded_aws.remembered import Remembered

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
CODE_BUCKET = "fargate-env-code"

#: Parsed templates by file and version: SAM's YAML loader takes about a second for
#: template.yaml, and every embedded AWS (one per test module) reads it.
_parsed: Remembered[dict[str, Any]] = Remembered()


def load_sam_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """template.yaml parsed with SAM's own YAML loader (it understands !Ref, !Sub, ...): a copy
    of its own for each caller, parsed again when the file changes."""
    from samtranslator.yaml_helper import yaml_parse

    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    parsed = _parsed.get(key, lambda: dict(yaml_parse(path.read_text())))
    return copy.deepcopy(parsed)


#: The characters of CloudFormation's suffix in the names it makes (`<stack>-<logical id>-<12>`).
SUFFIX_CHARACTERS = string.digits + string.ascii_uppercase


def stable_suffix(stack_name: str, logical_id: str) -> str:
    """A suffix as CloudFormation's (12 of SUFFIX_CHARACTERS), from the stack and the resource."""
    digest = hashlib.sha256(f"{stack_name}/{logical_id}".encode()).digest()
    return "".join(SUFFIX_CHARACTERS[byte % len(SUFFIX_CHARACTERS)] for byte in digest[:12])


def stable_resource_names(patch: Callable[[Any, str, Any], None]) -> None:
    """Names moto's CloudFormation makes end in stable_suffix instead of random characters.

    The state machines' definitions hold their functions' ARNs, which hold those names: with
    random ones every deploy gave new definitions, and moto parsed each again (about a second
    each, five per test module). Unique still: a stack's logical ids are, and an account holds
    one stack of a name.
    """
    import moto.cloudformation.parsing as parsing

    generate = parsing.generate_resource_name
    current = threading.local()

    def generate_resource_name(resource_type: str, stack_name: str, logical_id: str) -> str:
        current.suffix = stable_suffix(stack_name, logical_id)
        return str(generate(resource_type, stack_name, logical_id))

    # moto's generate_resource_name calls random_suffix() for its last characters.
    patch(parsing, "random_suffix", lambda: current.suffix)
    patch(parsing, "generate_resource_name", generate_resource_name)


@dataclass(frozen=True)
class FunctionInfo:
    """A Lambda function of the template: where its code is and how it is configured."""

    logical_id: str
    code_dir: Path
    handler: str
    timeout: int
    environment: dict[str, Any] = field(default_factory=dict)
    #: The template condition it is created under (None: always created).
    condition: str | None = None
    memory_size: int = 128  # Lambda's default MemorySize

    @property
    def module_file(self) -> Path:
        return self.code_dir / (self.handler.rsplit(".", 1)[0].replace(".", "/") + ".py")

    @property
    def handler_name(self) -> str:
        return self.handler.rsplit(".", 1)[1]


def functions(template: dict[str, Any], root: Path = REPO_ROOT) -> dict[str, FunctionInfo]:
    """Every AWS::Serverless::Function, with Globals applied."""
    defaults = template.get("Globals", {}).get("Function", {})
    found = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties", {})
        environment = dict(defaults.get("Environment", {}).get("Variables", {}))
        environment.update(props.get("Environment", {}).get("Variables", {}))
        found[logical_id] = FunctionInfo(
            logical_id=logical_id,
            code_dir=(root / props["CodeUri"]).resolve(),
            handler=props.get("Handler", defaults.get("Handler", "app.lambda_handler")),
            timeout=int(props.get("Timeout", defaults.get("Timeout", 3))),
            environment=environment,
            condition=resource.get("Condition"),
            memory_size=int(props.get("MemorySize", defaults.get("MemorySize", 128))),
        )
    return found


def layer_dirs(template: dict[str, Any], root: Path = REPO_ROOT) -> list[Path]:
    return [
        (root / resource["Properties"]["ContentUri"]).resolve()
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::LayerVersion"
    ]


def state_machine_definitions(template: dict[str, Any], root: Path = REPO_ROOT) -> dict[str, Any]:
    """Logical id -> the parsed ASL file of each state machine."""
    return {
        logical_id: json.loads((root / resource["Properties"]["DefinitionUri"]).read_text())
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::StateMachine"
    }


def translate(template: dict[str, Any], region: str, root: Path = REPO_ROOT) -> dict[str, Any]:
    """SAM -> CloudFormation with aws-sam-translator, offline.

    The translator rejects local paths, so code URIs become s3:// placeholders (the emulator
    runs the code from the working tree) and each state machine's definition is inlined.
    """
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    sam = copy.deepcopy(template)
    definitions = state_machine_definitions(template, root)
    for logical_id, resource in sam["Resources"].items():
        props = resource.setdefault("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            props["CodeUri"] = f"s3://{CODE_BUCKET}/{logical_id}.zip"
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            props["ContentUri"] = f"s3://{CODE_BUCKET}/{logical_id}.zip"
        elif resource["Type"] == "AWS::Serverless::StateMachine":
            props.pop("DefinitionUri")
            props["Definition"] = definitions[logical_id]
    translator = Translator(None, Parser(), [], boto_session=boto3.Session(region_name=region))
    return dict(translator.translate(sam, {}, get_managed_policy_map=lambda: {}))


def for_moto(cloudformation: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """Adjust translated CloudFormation to what moto's CloudFormation implements.

    moto ignores DefinitionSubstitutions, so each definition becomes
    {"Fn::Sub": [definition text, substitutions]} - the same substitution CloudFormation does.
    """
    prepared = copy.deepcopy(cloudformation)
    for logical_id, resource in prepared["Resources"].items():
        if resource["Type"] != "AWS::StepFunctions::StateMachine":
            continue
        props = resource["Properties"]
        substitutions = props.pop("DefinitionSubstitutions", {})
        props.pop("Definition", None)
        props["DefinitionString"] = {
            "Fn::Sub": [json.dumps(definitions[logical_id], indent=1), substitutions]
        }
    return prepared


def _no_value(raw: Any) -> bool:
    """An item CloudFormation drops from a list: AWS::NoValue, directly or from an Fn::If."""
    return isinstance(raw, dict) and (raw.get("Ref") == "AWS::NoValue" or "Fn::If" in raw)


class CleanJson(Protocol):
    """moto's clean_json, called with its parameters' names too."""

    def __call__(self, resource_json: Any, resources_map: Any) -> Any: ...


def dropping_no_value(clean_json: CleanJson) -> CleanJson:
    """moto's clean_json, except that an AWS::NoValue item of a list is removed, as
    CloudFormation does (moto leaves a null, which e.g. IAM refuses as a statement)."""

    def clean(resource_json: Any, resources_map: Any) -> Any:
        if not isinstance(resource_json, list):
            return clean_json(resource_json, resources_map)
        cleaned = [clean(item, resources_map) for item in resource_json]
        return [
            item
            for item, raw in zip(cleaned, resource_json, strict=True)
            if not (item is None and _no_value(raw))
        ]

    return clean
