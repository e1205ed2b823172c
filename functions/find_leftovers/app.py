"""Validate the reconcile's input, then find what was forgotten: stale claims, expired
environments without their schedule, resources tagged as this deployment's with no environment."""

from typing import Any

from fargate_env import reconcile
from fargate_env.observability import step


@step("find_leftovers")
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return reconcile.find(event.get("input"))
