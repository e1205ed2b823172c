"""Every source the repository cites is one its reader can open: an AWS page, a file of botocore,
or the honest word that the figure is observed, measured or estimated (issue #12, point 3)."""

from __future__ import annotations

import json
import re
import subprocess

from embedded_aws.latency import MODEL_PATH
from embedded_aws.strict.rules import RULES
from tests.support import REPO_ROOT

#: Design notes that live beside the project, not in it: a reader of the repository cannot open
#: them. Spelled in pieces so that this file does not cite them itself.
OUTSIDE_NOTES = re.compile(
    "|".join(["aws" + "-facts", "offline" + "-aws\\.md", "shared" + "/design"])
)
#: What a latency figure's source may be when no page states the figure.
UNDOCUMENTED = ("observed:", "measured:", "estimated:")


def _tracked_text_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [name for name in listed if (REPO_ROOT / name).is_file()]


def test_no_tracked_file_cites_a_design_note_outside_the_repo():
    citing = []
    for name in _tracked_text_files():
        try:
            text = (REPO_ROOT / name).read_text()
        except UnicodeDecodeError:
            continue
        citing += [
            f"{name}:{number}"
            for number, line in enumerate(text.splitlines(), 1)
            if OUTSIDE_NOTES.search(line)
        ]
    assert citing == []


def test_every_strict_rule_cites_a_public_page():
    assert [rule.id for rule in RULES if "https://" not in rule.source] == []


def test_every_latency_figure_names_a_page_or_says_it_is_undocumented():
    model = json.loads(MODEL_PATH.read_text())
    unsourced = [
        f"{section}.{name}"
        for section, figures in model.items()
        if isinstance(figures, dict)
        for name, figure in figures.items()
        if "https://" not in figure["source"] and not figure["source"].startswith(UNDOCUMENTED)
    ]
    assert unsourced == []
