"""Plan a run of the gateways machine: gateways to make (keep N warm) and to remove (idle)."""

from typing import Any

from fargate_env import gateways
from fargate_env.observability import step


@step("plan_gateways")
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, list[str]]:
    return gateways.plan()
