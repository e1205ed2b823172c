"""The committed JSON Schema is the model's, and it agrees with the model on the samples."""

from __future__ import annotations

import json

import jsonschema
import pytest

from fargate_env import spec
from tests.support import EVENTS, REPO_ROOT

SCHEMA_FILE = REPO_ROOT / "schema" / "environment-spec.schema.json"
SAMPLE_INPUTS = sorted((EVENTS / "inputs").glob("provision-*.json"))


def committed_schema():
    return json.loads(SCHEMA_FILE.read_text())


def validator():
    schema = committed_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_committed_schema_is_the_models():
    # Given the schema the model produces, formatted like `make schema` writes it
    expected = json.dumps(spec.json_schema(), indent=2, sort_keys=True) + "\n"
    # When it is compared with the committed file
    committed = SCHEMA_FILE.read_text()
    # Then they are the same
    assert committed == expected, (
        f"{SCHEMA_FILE.relative_to(REPO_ROOT)} is stale: run `make schema` and commit the result"
    )


def test_the_schema_identifies_itself():
    schema = committed_schema()
    assert schema["$id"] == spec.SCHEMA_ID
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["name"]


def test_there_are_sample_inputs():
    assert len(SAMPLE_INPUTS) >= 4


@pytest.mark.parametrize("path", SAMPLE_INPUTS, ids=lambda path: path.stem)
def test_each_sample_spec_satisfies_the_schema(path):
    # Given a sample execution input
    raw = json.loads(path.read_text())["spec"]
    # When its spec is checked against the committed schema
    errors = list(validator().iter_errors(raw))
    # Then there is nothing to report
    assert errors == [], [error.message for error in errors]


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        pytest.param({"name": "demo", "bogus": 1}, "bogus", id="unknown-top-level-field"),
        pytest.param(
            {"name": "demo", "container": {"imagee": "nginx"}}, "imagee", id="unknown-nested-field"
        ),
        pytest.param(
            {"name": "demo", "container": {"port": "eighty"}}, "'eighty'", id="port-not-a-number"
        ),
        pytest.param({"name": 42}, "42", id="name-not-a-string"),
        pytest.param({"container": {"image": "nginx:latest"}}, "'name'", id="name-missing"),
        pytest.param(
            {"name": "demo", "load_balancers": [{"type": "gateway"}]},
            "'gateway'",
            id="unknown-load-balancer-type",
        ),
        pytest.param({"name": "demo", "load_balancers": []}, "[]", id="no-load-balancers"),
        pytest.param(["demo"], "['demo']", id="not-an-object"),
    ],
)
def test_clearly_invalid_specs_do_not_satisfy_the_schema(raw, complaint):
    # Given a spec that is wrong in a way a schema can see
    # When it is checked against the committed schema
    errors = list(validator().iter_errors(raw))
    # Then the schema rejects it, pointing at the culprit
    assert errors, f"the schema accepts {raw!r}"
    assert any(complaint in error.message for error in errors), [e.message for e in errors]
