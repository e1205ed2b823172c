"""What the library makes of AWS saying "not there" (errors.or_none_on at each site): an absent
log stream has no lines, a log group or schedule deleted meanwhile was not deleted by this call,
an unknown execution is UNKNOWN and not running."""

from __future__ import annotations

import pytest

from fargate_env import logs, one_off_task, registry, schedules

UNKNOWN_EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:fargate-env-provision:nope"


@pytest.mark.usefixtures("aws")
def test_a_log_stream_not_written_yet_has_no_lines():
    assert one_off_task.log_tail("/fargate-env/nobody", "nobody/app/0123") == []


@pytest.mark.usefixtures("aws")
def test_a_log_group_or_schedule_gone_since_it_was_found_is_not_reported_deleted(monkeypatch):
    monkeypatch.setattr(logs, "find", lambda env: f"/fargate-env/{env}")
    monkeypatch.setattr(schedules, "find", lambda env: f"fargate-env-{env}-expiry")
    assert logs.delete("gone") == {"deleted": []}
    assert schedules.delete("gone") == {"deleted": []}


@pytest.mark.usefixtures("aws")
def test_an_execution_step_functions_does_not_know_is_unknown_and_not_running():
    assert registry.execution_status(UNKNOWN_EXECUTION) == "UNKNOWN"
    assert registry.execution_status(None) == "UNKNOWN"
    assert not registry.execution_running(UNKNOWN_EXECUTION)


@pytest.mark.usefixtures("aws")
def test_the_teardown_skips_listeners_target_groups_and_security_groups_already_gone():
    from fargate_env import load_balancers, security_groups, target_groups

    region = "arn:aws:elasticloadbalancing:us-east-1:123456789012"
    listener = f"{region}:listener/app/fenv-gone-web/0123456789abcdef/0123456789abcdef"
    group = f"{region}:targetgroup/fenv-gone-web/0123456789abcdef"
    assert load_balancers._delete_listeners([{"ListenerArn": listener}]) == []
    assert target_groups.existing("gone", [group]) == []
    assert security_groups._describe(["sg-0123456789abcdef0"]) == []
