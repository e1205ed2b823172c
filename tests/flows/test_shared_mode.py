"""Shared mode on the embedded AWS: environments on a gateway (an ALB fargate-env shares), each
with its own target group and its own listener port; one torn down while the other answers."""

from __future__ import annotations

from typing import Any

from embedded_aws.emulator import EmbeddedAWS
from fargate_env import endpoint


def shared(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "mode": "shared", **fields}


def gateway_items(aws: EmbeddedAWS) -> list[dict[str, Any]]:
    items = aws.client("dynamodb").scan(TableName=aws.physical["RegistryTable"])["Items"]
    return [item for item in items if item.get("kind", {}).get("S") == "gateway"]


def answer(aws: EmbeddedAWS, url: str) -> dict[str, Any]:
    """A GET of `url` from this test: outside any VPC."""
    return endpoint.get(url, timeout=5)


def test_two_shared_environments_share_one_gateway_and_outlive_each_other(
    embedded: EmbeddedAWS, env_name
):
    first, second = f"{env_name[:14]}-a", f"{env_name[:14]}-b"

    # When two environments are provisioned in shared mode
    made = [embedded.provision(shared(first)), embedded.provision(shared(second))]

    # Then both succeed on one gateway load balancer, each at its own port, each answering as
    # itself (the stand-in names its environment; the check compared it)
    assert [execution.status for execution in made] == ["SUCCEEDED", "SUCCEEDED"], [
        execution.cause for execution in made
    ]
    urls = [execution.output["url"] for execution in made]
    hosts = {url.split("//")[1].split(":")[0] for url in urls}
    assert len(hosts) == 1, urls
    assert len(set(urls)) == 2, urls
    checks = [execution.output["verification"][0] for execution in made]
    assert [check.get("environment") for check in checks] == [first, second]
    for url, name in zip(urls, (first, second), strict=True):
        assert answer(embedded, url).get("environment") == name

    # When the first is torn down
    teardown = embedded.teardown(first)

    # Then nothing of it is left, the gateway stays, and the second still answers as itself
    assert teardown.status == "SUCCEEDED", teardown.cause
    assert embedded.remaining(first) == []
    assert len(gateway_items(embedded)) >= 1
    assert answer(embedded, urls[1]).get("environment") == second
    # (its listener is gone: no load balancer listens on its port any more)
    assert answer(embedded, urls[0])["status"] is None

    assert embedded.teardown(second).status == "SUCCEEDED"
    assert embedded.remaining(second) == []
