"""The committed JSON Schema is the model's, and it agrees with the model on the samples."""

from __future__ import annotations

import functools
import json

import jsonschema
import pytest

from fargate_env import spec
from tests.support import EVENTS, REPO_ROOT

SCHEMA_FILE = REPO_ROOT / "schema" / "environment-spec.schema.json"
SAMPLE_INPUTS = sorted((EVENTS / "inputs").glob("provision-*.json"))


def committed_schema():
    return json.loads(SCHEMA_FILE.read_text())


@functools.cache
def validator():
    # Checked and compiled once per process (~0.2 s each): the committed file does not change
    # during a run, and the validator holds no state between validations.
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


@pytest.mark.parametrize(
    ("container", "complaint"),
    [
        pytest.param({"image": "-nginx"}, "does not match", id="image-pattern"),
        pytest.param({"cpu": 300}, "300 is not one of", id="cpu-values"),
        pytest.param({"cpu": 1024, "memory": 512}, "512 is not one of", id="memory-per-cpu"),
        pytest.param({"cpu": 4096}, "'memory' is a required property", id="default-memory"),
        pytest.param({"log_retention_days": 2}, "2 is not one of", id="log-retention"),
        pytest.param({"environment": {"1BAD": "x"}}, "'1BAD'", id="variable-name"),
        pytest.param({"secrets": {"DB": "hunter2"}}, "'hunter2'", id="secret-not-an-arn"),
    ],
)
def test_single_field_rules_are_in_the_schema(container, complaint):
    raw = {"name": "demo", "container": container}
    with pytest.raises(spec.InvalidSpec):
        spec.parse(raw)  # the model refuses it ...
    errors = list(validator().iter_errors(raw))  # ... and so does the schema
    assert any(complaint in str(error.message) for error in errors), [e.message for e in errors]


def test_the_schema_and_the_model_agree_on_every_task_size():
    memories = sorted({m for allowed in spec.FARGATE_TASK_SIZES.values() for m in allowed})
    for cpu in spec.FARGATE_TASK_SIZES:
        for memory in [*memories, None]:
            container = {"cpu": cpu} if memory is None else {"cpu": cpu, "memory": memory}
            raw = {"name": "demo", "container": container}
            try:
                spec.parse(raw)
                valid = True
            except spec.InvalidSpec:
                valid = False
            assert validator().is_valid(raw) == valid, raw


def test_reserved_tag_prefixes_and_tag_counts_are_in_the_schema():
    assert not validator().is_valid({"name": "demo", "tags": {"AWS:team": "x"}})
    assert not validator().is_valid({"name": "demo", "tags": {"fargate-env:team": "x"}})
    too_many = {f"k{i}": "v" for i in range(48)}
    assert not validator().is_valid({"name": "demo", "tags": too_many})


def test_the_schema_says_which_rules_it_leaves_to_the_model():
    comment = committed_schema()["$comment"]
    for rule in ("at most 32 characters", "unique load balancer ids", "64 KiB"):
        assert rule in comment
