"""examples/github/preview.yml as the contract tests read it: its jobs, and the fenv commands its
steps run, each as the arguments `fenv` gets once the shell has filled in the variables."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

import yaml

from tests.support import REPO_ROOT

WORKFLOW = REPO_ROOT / "examples" / "github" / "preview.yml"
#: Shell operators that end a command.
_OPERATORS = {"||", "&&", ";", "|", ">", ">>", "<", "&"}
_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def load() -> dict[str, Any]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    # YAML 1.1 reads the key `on` as True
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return dict(workflow)


@dataclass(frozen=True)
class FenvCall:
    job: str
    step: str
    argv: tuple[str, ...]  # after `fenv`, with the shell's variables unexpanded

    def expanded(self, variables: dict[str, str]) -> list[str]:
        """The arguments with the step's variables filled in (a variable the caller does not
        give fails, naming it)."""

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            assert name in variables, f"{self.job}/{self.step}: fenv uses ${name}: give it"
            return variables[name]

        return [_VARIABLE.sub(value, argument) for argument in self.argv]


def _commands(script: str) -> list[list[str]]:
    """Every `fenv ...` command of a shell script, as its words."""
    found = []
    for line in script.replace("\\\n", " ").splitlines():
        if line.strip().startswith("#"):
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words = list(lexer)
        for index, word in enumerate(words):
            if word != "fenv" or (index and words[index - 1] not in _OPERATORS):
                continue
            command = []
            for argument in words[index + 1 :]:
                if argument in _OPERATORS:
                    break
                command.append(argument)
            found.append(command)
    return found


def fenv_calls(workflow: dict[str, Any]) -> list[FenvCall]:
    """The fenv commands of every step of every job, in the order they run."""
    return [
        FenvCall(job_id, step.get("name") or step.get("id") or "?", tuple(command))
        for job_id, job in workflow["jobs"].items()
        for step in job["steps"]
        for command in _commands(step.get("run") or "")
    ]
