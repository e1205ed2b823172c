"""ECS lists one cluster's tasks: moto also returned the tasks of every cluster whose ARN contains
the name (fenv-demo listed fenv-demo-nlb's), so tearing down `demo` after creating `demo-nlb`
waited for a task it must not wait for and failed (the README's samples share that prefix)."""

from __future__ import annotations


def test_a_teardown_waits_only_for_its_own_clusters_tasks(embedded, env_name):
    longer = f"{env_name}x"  # its cluster, fenv-<env>x, contains fenv-<env>
    assert embedded.provision({"name": env_name}).status == "SUCCEEDED"
    assert embedded.provision({"name": longer}).status == "SUCCEEDED"

    ecs = embedded.client("ecs")
    listed = ecs.list_tasks(cluster=f"fenv-{env_name}")["taskArns"]
    assert listed
    assert all(f"/fenv-{env_name}/" in arn for arn in listed)

    teardown = embedded.teardown(env_name)
    assert teardown.status == "SUCCEEDED", teardown.cause
    assert embedded.remaining(env_name) == []
    assert embedded.teardown(longer).status == "SUCCEEDED"
    assert embedded.remaining(longer) == []
