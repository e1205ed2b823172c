"""The TypedDicts of fargate_env.payloads say what the steps really pass: the normalised spec's
keys are the model's, at every level (a spec with every optional object present)."""

from __future__ import annotations

import types
import typing
from typing import Any, get_args, get_origin, get_type_hints, is_typeddict

from fargate_env import payloads, spec

ACCOUNT = "123456789012"
SECRETS = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:fargate-env/demo"
HEALTH = {"command": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"]}
#: Every object of the model present at least once (optional ones, and lists' items).
FULL: dict[str, Any] = {
    "name": "demo",
    "container": {
        "image": "public.ecr.aws/nginx/nginx:1.27",
        "port": 8080,
        "cpu": 512,
        "memory": 1024,
        "command": ["nginx", "-g", "daemon off;"],
        "entry_point": ["/docker-entrypoint.sh"],
        "working_directory": "/srv",
        "user": "nginx",
        "environment": {"MODE": "preview"},
        "secrets": {"DB_PASSWORD": f"{SECRETS}/db-AbCdEf"},
        "health_check": HEALTH,
        "depends_on": [{"container": "proxy", "condition": "HEALTHY"}],
        "volumes": [
            {"name": "data", "container_path": "/data", "efs": {"file_system_id": "fs-12345678"}}
        ],
        "ulimits": [{"name": "nofile", "soft_limit": 1024, "hard_limit": 4096}],
        "ephemeral_storage_gib": 30,
        "task_role_arn": f"arn:aws:iam::{ACCOUNT}:role/app",
        "registry_credentials_arn": f"{SECRETS}/registry-AbCdEf",
    },
    "sidecars": [
        {
            "name": "proxy",
            "image": "public.ecr.aws/envoyproxy/envoy:v1.31",
            "health_check": HEALTH,
            "depends_on": [{"container": "init", "condition": "SUCCESS"}],
        },
        {"name": "init", "image": "public.ecr.aws/docker/library/busybox:1", "essential": False},
    ],
    "pre_traffic_task": {"command": ["./migrate"]},
    "load_balancers": [
        {
            "id": "web",
            "listeners": [
                {
                    "port": 443,
                    "protocol": "HTTPS",
                    "certificate_arn": f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/"
                    "00000000-0000-4000-8000-000000000001",
                },
                {"port": 80, "protocol": "HTTP", "redirect_to_https": True},
            ],
            "target_group": {"stickiness": {"type": "lb_cookie"}},
            "authentication": {
                "type": "cognito",
                "user_pool_arn": f"arn:aws:cognito-idp:us-east-1:{ACCOUNT}:userpool/us-east-1_AbC1",
                "user_pool_client_id": "abc123",
                "user_pool_domain": "previews",
            },
        }
    ],
    "cluster": {"capacity_providers": [{"provider": "FARGATE_SPOT", "weight": 1}]},
    "network": {"subnet_ids": ["subnet-0123456789abcdef0"]},
    "tags": {"team": "web"},
    "time_to_live_minutes": 60,
}


def _typeddicts_in(hint: Any) -> list[Any]:
    """The TypedDicts a field's type names: itself, in `X | None`, or as a list's item."""
    if is_typeddict(hint):
        return [hint]
    if get_origin(hint) in (list, typing.Union, types.UnionType):
        return [found for arg in get_args(hint) for found in _typeddicts_in(arg)]
    return []


def _check(value: Any, hint: Any, path: str, seen: set[str]) -> None:
    """`value`'s keys are those of the TypedDict `hint` names, recursively."""
    (typed,) = _typeddicts_in(hint) or (None,)
    if typed is None or value is None:  # absent here: the sample has it elsewhere (`seen`)
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check(item, typed, f"{path}[{index}]", seen)
        return
    fields = get_type_hints(typed)
    assert set(value) == set(fields), f"{path}: normalise gives {sorted(value)}"
    seen.add(typed.__name__)
    for key, field in fields.items():
        _check(value[key], field, f"{path}.{key}", seen)


def test_the_normalised_specs_keys_are_the_typeddicts_at_every_level():
    normalised = spec.normalise(spec.parse(FULL))
    seen: set[str] = set()
    _check(normalised, payloads.NormalisedSpec, "spec", seen)
    every = {
        name
        for name, value in vars(payloads).items()
        if is_typeddict(value) and name.endswith("Spec")
    }
    assert seen == every  # the sample reaches every TypedDict of the spec


def test_the_normalised_spec_of_the_defaults_has_the_same_keys():
    normalised = spec.normalise(spec.parse({"name": "demo"}))
    assert set(normalised) == set(get_type_hints(payloads.NormalisedSpec))
    lb = normalised["load_balancers"][0]
    assert set(lb) == set(get_type_hints(payloads.LoadBalancerSpec))
    assert lb["listeners"]
    assert lb["target_group"]["protocol"] == "HTTP"
