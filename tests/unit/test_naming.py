"""Names made from the longest environment name and load balancer id the spec allows still fit
what AWS allows for each resource (so the spec needs no check of its own for them)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fargate_env import naming

#: AWS's own name limits: ELBv2 load balancers and target groups 32 characters (CreateLoadBalancer
#: / CreateTargetGroup, Name); EC2 security group names 255; ECS cluster names 255.
ELBV2_NAME = 32
SECURITY_GROUP_NAME = 255

names = st.from_regex(naming.ENVIRONMENT_NAME_PATTERN, fullmatch=True).filter(
    lambda name: 2 <= len(name) <= naming.MAX_ENVIRONMENT_NAME
)
ids = st.from_regex(rf"[a-z][a-z0-9]{{0,{naming.MAX_LOAD_BALANCER_ID - 1}}}", fullmatch=True)


def test_the_longest_names_fit_exactly_what_elbv2_allows():
    longest = naming.load_balancer_name(
        "e" * naming.MAX_ENVIRONMENT_NAME, "i" * naming.MAX_LOAD_BALANCER_ID
    )
    assert naming.MAX_ELBV2_NAME == ELBV2_NAME
    assert len(longest) == ELBV2_NAME


@given(names, ids)
def test_every_allowed_name_and_id_fit(env: str, lb_id: str):
    assert len(naming.load_balancer_name(env, lb_id)) <= ELBV2_NAME
    assert len(naming.target_group_name(env, lb_id)) <= ELBV2_NAME
    assert len(naming.load_balancer_security_group_name(env, lb_id)) <= SECURITY_GROUP_NAME
