"""README.md documents every field of the environment spec, with the model's defaults, so the
reference cannot go stale silently."""

from __future__ import annotations

import json
import re
import types
import typing

import pytest
from pydantic import BaseModel

from fargate_env import spec
from tests.support import REPO_ROOT

START = "<!-- spec-reference:start -->"
END = "<!-- spec-reference:end -->"
TOP_LEVEL = "Top level"
ROW = re.compile(r"^\| `(?P<field>[a-z_]+)` \| (?P<default>[^|]*?) \| .+\|$")


def reference_section() -> str:
    readme = (REPO_ROOT / "README.md").read_text()
    assert readme.count(START) == 1, f"README.md needs exactly one {START}"
    assert readme.count(END) == 1, f"README.md needs exactly one {END}"
    return readme.split(START, 1)[1].split(END, 1)[0]


def tables() -> dict[str, dict[str, str]]:
    """Heading ("Top level", "container", "load_balancers[].listeners[]"...) -> field -> the
    Default cell of its row."""
    result: dict[str, dict[str, str]] = {}
    current = None
    for line in reference_section().splitlines():
        if line.startswith("### "):
            current = line.removeprefix("### ").strip().strip("`")
            result[current] = {}
        elif current is not None and (row := ROW.match(line)):
            result[current][row["field"]] = row["default"].strip()
    return result


def nested_models(annotation: object, in_list: bool = False) -> list[tuple[type, bool]]:
    """The models inside a field's annotation, each with whether it is a list's item."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, in_list)]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return nested_models(args[0], in_list)
    if origin in (typing.Union, types.UnionType):
        return [found for arg in args for found in nested_models(arg, in_list)]
    if origin is list:
        return nested_models(args[0], True)
    return []  # scalars, literals and dicts of strings


def documented_models() -> dict[str, type[BaseModel]]:
    """Every model of the spec, reached through the field annotations, by its README heading:
    "container", "container.volumes[]", "load_balancers[].target_group"..."""
    found: dict[str, type[BaseModel]] = {TOP_LEVEL: spec.EnvironmentSpec}
    pending: list[tuple[str, type[BaseModel]]] = [("", spec.EnvironmentSpec)]
    while pending:
        path, model = pending.pop()
        for name, field in model.model_fields.items():
            for child, in_list in nested_models(field.annotation):
                child_path = f"{path}.{name}" if path else name
                child_path += "[]" if in_list else ""
                found[child_path] = child
                pending.append((child_path, child))
    return found


def test_the_walk_reaches_every_model_of_the_spec():
    # Given every pydantic model defined in the spec module
    defined = {
        value
        for value in vars(spec).values()
        if isinstance(value, type) and issubclass(value, spec.Model) and value is not spec.Model
    }
    # Then walking the annotations from EnvironmentSpec reaches each (so the checks below see all)
    assert set(documented_models().values()) == defined


def test_every_model_has_a_table():
    documented = tables()
    missing = [heading for heading in documented_models() if heading not in documented]
    assert missing == [], f"README.md has no '### `<heading>`' table for: {missing}"


def test_every_field_is_documented_in_its_models_table():
    # Given the README's tables and every field of every model
    documented = tables()
    # When each field is looked up in its model's table
    missing = [
        f"{heading}: {name}"
        for heading, model in documented_models().items()
        for name in model.model_fields
        if name not in documented.get(heading, {})
    ]
    # Then none is missing (and so every field name appears between the markers)
    assert missing == [], f"fields not documented in README.md: {missing}"
    section = reference_section()
    for model in documented_models().values():
        for name in model.model_fields:
            assert f"`{name}`" in section


def test_no_table_documents_a_field_that_does_not_exist():
    models = documented_models()
    stale = [
        f"{heading}: {name}"
        for heading, rows in tables().items()
        for name in rows
        if heading not in models or name not in models[heading].model_fields
    ]
    assert stale == [], f"README.md documents fields the spec does not have: {stale}"


def plain_default(field) -> tuple[bool, object]:
    """(True, value) when the field's default is a plain JSON value the README can show."""
    value = field.get_default(call_default_factory=True)
    try:
        json.dumps(value)
    except TypeError:  # a model, or a list of models: described in words
        return False, None
    return True, value


def test_documented_defaults_are_the_models():
    # Given each documented field and its default in the model
    documented = tables()
    wrong = []
    for heading, model in documented_models().items():
        for name, field in model.model_fields.items():
            cell = documented.get(heading, {}).get(name)
            if cell is None:
                continue  # reported by the test above
            # When the README's Default cell is compared with it
            if field.is_required():
                expected = "required"
            else:
                plain, value = plain_default(field)
                if not plain:
                    continue
                expected = f"`{json.dumps(value)}`"
            # Then it shows that value
            if expected not in cell:
                wrong.append(f"{heading}: {name} shows {cell!r}, the model says {expected}")
    assert wrong == [], "\n".join(wrong)


def readme_examples() -> list[dict]:
    blocks = re.findall(r"```json\n(.*?)```", reference_section(), flags=re.S)
    return [json.loads(block) for block in blocks]


def test_the_readme_has_a_minimal_and_a_fuller_example():
    examples = readme_examples()
    assert len(examples) >= 2
    assert examples[0] == {"spec": {"name": "demo"}}


@pytest.mark.parametrize("index", range(2))
def test_each_readme_example_is_a_valid_spec(index):
    # Given an example from the README; When its spec is parsed; Then it is valid
    example = readme_examples()[index]
    assert spec.parse(example["spec"]).name == example["spec"]["name"]
