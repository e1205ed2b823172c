"""What an update may change in place, and what it refuses as infrastructure (update.py)."""

from __future__ import annotations

import pytest

from fargate_env import spec as spec_model
from fargate_env import update


def normalised(**fields: object) -> dict:
    return spec_model.normalise(spec_model.parse({"name": "demo", **fields}))


@pytest.mark.parametrize(
    "fields",
    [
        {"container": {"image": "public.ecr.aws/nginx/nginx:1.27"}},
        {"container": {"environment": {"RELEASE": "2"}, "cpu": 512, "memory": 1024}},
        {"container": {"health_check": {"command": ["CMD-SHELL", "true"]}}},
        {"service": {"desired_count": 3, "circuit_breaker": False}},
        {"polling": {"interval_seconds": 5, "deadline_seconds": 600}},
        {"load_balancers": [{"target_group": {"health_check": {"path": "/healthz"}}}]},
    ],
)
def test_what_runs_in_the_tasks_and_the_service_settings_are_updated_in_place(fields):
    assert update.infrastructure_changes(normalised(), normalised(**fields)) == []


def test_every_infrastructure_change_is_named_by_its_field():
    wanted = normalised(
        load_balancers=[{"scheme": "internal", "ingress_cidrs": ["10.0.0.0/8"]}],
        container={"port": 8080},
        service={"assign_public_ip": False},
        tags={"team": "web"},
        time_to_live_minutes=60,
    )
    assert update.infrastructure_changes(normalised(), wanted) == [
        "load_balancers[0].ingress_cidrs[0]",
        "load_balancers[0].scheme",
        "tags.team",
        "time_to_live_minutes",
        "container.port",
        "service.assign_public_ip",
    ]


def test_a_different_number_of_load_balancers_is_named_as_the_list():
    wanted = normalised(load_balancers=[{"id": "web"}, {"id": "api", "type": "network"}])
    assert update.infrastructure_changes(normalised(), wanted) == ["load_balancers"]
