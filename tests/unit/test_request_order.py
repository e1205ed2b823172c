"""Request order in the library: the request's time as every entry point gives it, and the
registry's claims deciding by those times (the flows: tests/flows/test_request_order.py)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from fargate_env import lifecycle, ordering, registry, validation
from fargate_env.errors import EnvironmentBusy, InvalidRequest
from tests.support import REPO_ROOT

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def iso(seconds: float) -> str:
    """A request time `seconds` after NOW, canonical."""
    return ordering.canonical(NOW + timedelta(seconds=seconds))


# ---------------------------------------------------------------------------- request times
@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("2026-06-01T12:00:00Z", "2026-06-01T12:00:00.000000Z"),
        ("2026-06-01T12:00:00.25Z", "2026-06-01T12:00:00.250000Z"),
        ("2026-06-01T14:00:00.123456+02:00", "2026-06-01T12:00:00.123456Z"),
    ],
)
def test_a_request_time_is_kept_in_one_form_whatever_its_zone(written, canonical):
    assert ordering.parse(written, "requested_at", NOW.timestamp()) == canonical


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        (1767225600, "must be an ISO 8601 time"),
        ("yesterday", "is not an ISO 8601 time"),
        ("2026-06-01T12:00:00", "has no time zone"),
        ("2019-12-31T23:59:59Z", "is before 2020"),
        ("2026-06-01T12:05:01Z", "is more than 5 minutes ahead"),
    ],
)
def test_a_bad_request_time_is_refused_naming_the_field(value, complaint):
    with pytest.raises(InvalidRequest, match=rf"^requested_at: .*{complaint}"):
        ordering.parse(value, "requested_at", NOW.timestamp())


def test_canonical_times_sort_as_text_in_time_order():
    # (DynamoDB compares them as strings in the claims' conditions)
    moments = [NOW + timedelta(microseconds=n * 999_937) for n in range(-50, 50)]
    texts = [ordering.canonical(moment) for moment in moments]
    assert sorted(texts) == texts


def test_each_entry_point_gives_the_request_its_time(monkeypatch):
    monkeypatch.setattr(validation.clock, "now", NOW.timestamp)
    started = "2026-06-01T11:59:00.000Z"
    teardown = validation.validate_teardown
    event = {"detail": {"name": "demo", "deployment": "fargate-env"}, "time": "2026-06-01T11:58Z"}

    # its own requested_at first (the CLI's, or a producer's finer one in an event's detail)
    own = {"name": "demo", "requested_at": "2026-06-01T11:57:00Z"}
    assert teardown(own, started)["requested_at"] == "2026-06-01T11:57:00.000000Z"
    finer = {**event, "detail": {**event["detail"], "requested_at": "2026-06-01T11:58:00.5Z"}}
    assert teardown(finer, started)["requested_at"] == "2026-06-01T11:58:00.500000Z"
    # then the event's time, then the execution's start (the console, the scheduler)
    assert teardown(event, started)["requested_at"] == "2026-06-01T11:58:00.000000Z"
    assert teardown({"name": "demo"}, started)["requested_at"] == "2026-06-01T11:59:00.000000Z"
    # the provisioning reads the same
    create = {"detail": {"spec": {"name": "demo"}, "deployment": "fargate-env"}, "time": started}
    assert validation.validate(create)["requested_at"] == "2026-06-01T11:59:00.000000Z"


@pytest.mark.parametrize(
    ("execution_input", "complaint"),
    [
        ({"spec": {"name": "demo"}, "bogus": 1}, "bogus: unknown field"),
        ({"detail": {"spec": {"name": "demo"}}, "time": "x", "spec": {}}, "spec: unknown field"),
        ({"detail": "demo", "time": "2026-06-01T11:58Z"}, "detail: must be a JSON object"),
        (["demo"], "input: the provisioning takes a JSON object"),
    ],
)
def test_a_provisioning_input_of_another_shape_is_refused(execution_input, complaint):
    with pytest.raises(InvalidRequest, match=complaint):
        validation.validate(execution_input)


# ---------------------------------------------------------------------------- the registry
@pytest.fixture
def table(deployment, monkeypatch):
    """The registry, with every execution it names taken as still running unless ended."""
    ended: set[str] = set()
    monkeypatch.setattr(registry, "execution_running", lambda arn: bool(arn) and arn not in ended)
    return ended


SPEC = {"name": "demo"}


def test_a_teardown_requested_at_or_after_a_create_supersedes_it(table):
    # Given a teardown of a name never created, requested at NOW
    claimed = registry.claim_for_teardown("demo", "teardown-1", iso(0))
    assert claimed["outcome"] == registry.CLAIMED
    assert registry.mark_deleted("demo", "teardown-1", {})

    # Then a create requested at the same instant, or before, changes nothing
    for when in (0, -1):
        result = registry.claim_for_provisioning("demo", SPEC, f"create{when}", iso(when))
        assert result["outcome"] == registry.SUPERSEDED, result
    assert registry.get("demo")["status"] == registry.DELETED
    # And one requested after it claims the name
    assert registry.claim_for_provisioning("demo", SPEC, "create", iso(1))["outcome"] == "claimed"


def test_a_create_requested_after_a_teardown_supersedes_it_and_a_later_one_waits(table):
    # Given a create that claimed the name, requested at NOW
    registry.claim_for_provisioning("demo", SPEC, "create", iso(0))

    # Then an earlier teardown is superseded, and records nothing
    earlier = registry.claim_for_teardown("demo", "teardown-early", iso(-1))
    assert earlier["outcome"] == registry.SUPERSEDED
    assert "teardown_requested_at" not in registry.get("demo")
    # And a later one waits for the creation, its time recorded at once
    later = registry.claim_for_teardown("demo", "teardown-late", iso(1))
    assert later["outcome"] == registry.WAITING
    assert registry.get("demo")["teardown_requested_at"] == iso(1)

    # When the creation ends, the waiting teardown claims it
    assert registry.mark_ready("demo", "create", {"resources": {}})
    assert registry.claim_for_teardown("demo", "teardown-late", iso(1))["outcome"] == "claimed"


def test_a_create_waits_for_an_earlier_teardown_still_running_only(table):
    registry.claim_for_provisioning("demo", SPEC, "create-1", iso(0))
    registry.mark_ready("demo", "create-1", {"resources": {}})
    registry.claim_for_teardown("demo", "teardown", iso(1))

    assert registry.claim_for_provisioning("demo", SPEC, "create-2", iso(2))["outcome"] == "waiting"
    # a teardown that stopped part-way holds the name until it is run again
    table.add("teardown")
    with pytest.raises(EnvironmentBusy, match="a teardown of it stopped part-way"):
        registry.claim_for_provisioning("demo", SPEC, "create-2", iso(2))


def test_the_latest_teardown_request_only_moves_forward(table):
    registry.claim_for_teardown("demo", "teardown-late", iso(10))
    registry.claim_for_teardown("demo", "teardown-early", iso(5))

    assert registry.get("demo")["teardown_requested_at"] == iso(10)
    # so a create requested between the two is still superseded by the later one
    outcome = registry.claim_for_provisioning("demo", SPEC, "create", iso(7))["outcome"]
    assert outcome == registry.SUPERSEDED


def test_a_create_retrying_its_own_claim_keeps_it(table):
    registry.claim_for_provisioning("demo", SPEC, "create", iso(0))
    registry.claim_for_teardown("demo", "teardown", iso(1))  # waits for the creation

    # (a retried step: nothing of the environment exists yet, the claim is still its own)
    assert registry.claim_for_provisioning("demo", SPEC, "create", iso(0))["outcome"] == "claimed"


def test_begin_teardown_validates_before_it_writes(table):
    with pytest.raises(InvalidRequest, match="name: 'BAD NAME'"):
        lifecycle.begin_teardown({"name": "BAD NAME"}, "teardown", None)

    assert registry.all_items() == []


def test_the_teardown_steps_do_not_import_pydantic():
    # (only validate_spec does: the other steps' cold start stays small)
    code = "import sys, fargate_env.lifecycle; print('pydantic' in sys.modules)"
    layer = str(REPO_ROOT / "layers" / "common")
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=layer
    )
    assert found.stdout.strip() == "False"
