"""Size bounds on a spec: the spec as JSON, and the task definition ECS would receive (counted
from the request the register step really sends)."""

from __future__ import annotations

import json

import pytest

from fargate_env import execution_role, sizes, task_definition
from fargate_env import spec as spec_model
from fargate_env.aws import client
from fargate_env.errors import InvalidSpec


def normalised(**container: object) -> dict:
    return spec_model.normalise(spec_model.parse({"name": "sizes", "container": container}))


def test_a_spec_is_bounded_as_json():
    at_the_bound = {"name": "x", "pad": "p" * (sizes.SPEC_MAX_BYTES - 21)}
    assert sizes.json_bytes(at_the_bound) == sizes.SPEC_MAX_BYTES
    sizes.check_spec(at_the_bound)

    with pytest.raises(InvalidSpec, match=r"^spec: 65,537 bytes as JSON; at most 65,536"):
        sizes.check_spec({**at_the_bound, "pad": at_the_bound["pad"] + "p"})


def test_the_sizing_covers_the_request_the_register_step_sends(deployment, monkeypatch):
    # Given a spec with environment variables, secrets and volumes
    spec = normalised(
        environment={f"VAR_{i}": "value" * 10 for i in range(50)},
        volumes=[{"name": "scratch", "container_path": "/tmp/scratch"}],
    )
    sent: list[dict] = []
    ecs = client("ecs")
    real = ecs.register_task_definition

    def register(**request: object) -> object:
        sent.append(request)
        return real(**request)

    monkeypatch.setattr(ecs, "register_task_definition", register)

    # When the register step sends its request
    role = execution_role.ensure(spec, "/fargate-env/sizes")
    task_definition.register(spec, "/fargate-env/sizes", role["arn"])

    # Then the size checked before any resource is at least the size of what was sent
    assert sizes.task_definition_bytes(spec) >= sizes.json_bytes(sent[0])
    assert sizes.task_definition_bytes(spec) - sizes.json_bytes(sent[0]) < 1024


def test_a_task_definition_over_ecs_limit_names_the_field_that_makes_it():
    variables = {f"V{i:04d}": "v" * 12 for i in range(1700)}
    with pytest.raises(InvalidSpec, match=r"^container\.environment: the task definition"):
        sizes.check_task_definition(normalised(environment=variables))

    paths = [{"name": f"v{i}", "container_path": f"/{i}" + "p" * 4000} for i in range(20)]
    with pytest.raises(InvalidSpec, match=r"^container: the task definition ECS would receive"):
        sizes.check_task_definition(normalised(volumes=paths))

    limit = sizes.TASK_DEFINITION_MAX_BYTES - sizes.TASK_DEFINITION_MARGIN_BYTES
    assert sizes.task_definition_bytes(normalised()) < limit
    assert json.loads(json.dumps(normalised()))  # (the default spec is far inside)
