"""The strict rules' table (embedded_aws/strict/rules.py) and its documentation agree, and every
rule has a test that names it."""

from __future__ import annotations

import re

from embedded_aws.strict.rules import BUCKETS, RULES, table
from tests.support import REPO_ROOT

DOC = REPO_ROOT / "docs" / "strict-rules.md"
TESTS = [
    REPO_ROOT / "tests" / "unit" / "test_strict_rules.py",
    REPO_ROOT / "tests" / "flows" / "test_strict.py",
]


def documented_table() -> str:
    text = DOC.read_text()
    found = re.search(r"<!-- strict-rules:start -->\n(.*?)\n<!-- strict-rules:end -->", text, re.S)
    assert found, f"{DOC} lost its strict-rules markers"
    return found.group(1)


def test_the_documented_table_is_the_rules_table():
    assert documented_table() == table()


def test_the_readme_points_to_the_rules():
    readme = (REPO_ROOT / "README.md").read_text()
    assert "## The embedded AWS refuses what AWS refuses" in readme
    assert "(docs/strict-rules.md)" in readme


def test_every_rule_has_a_source_an_answer_and_a_test_naming_it():
    tests = "\n".join(path.read_text() for path in TESTS)
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    for rule in RULES:
        assert all((rule.source, rule.answer, rule.figure)), rule.id
        assert re.search(rf"\b{re.escape(rule.id)}\b", tests), f"no test names rule {rule.id}"


def test_every_token_bucket_is_a_rule():
    assert {f"rate.{bucket.name}" for bucket in BUCKETS} <= {rule.id for rule in RULES}
