"""Check once whether the load balancers are gone."""

from typing import Any

from fargate_env import load_balancers
from fargate_env.observability import step
from fargate_env.payloads import LoadBalancersDeleted


@step("wait_load_balancers_deleted")
def lambda_handler(event: dict[str, Any], context: Any) -> LoadBalancersDeleted:
    return load_balancers.check_deleted(event["inventory"]["load_balancers"])
