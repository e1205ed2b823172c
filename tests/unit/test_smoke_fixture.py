from tests.support import load_handler


def test_create_cluster_is_idempotent(deployment, spec, lambda_context):
    create = load_handler("create_cluster")
    first = create({"spec": spec, "execution": "t"}, lambda_context)
    second = create({"spec": spec, "execution": "t"}, lambda_context)
    assert first == second
