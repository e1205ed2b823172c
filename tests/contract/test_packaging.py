"""The project is an installable package: one list of runtime dependencies (the layer's
requirements follow pyproject.toml), the `fenv` console script, imports without path edits,
and a Makefile that names no machine's paths."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

from tests.support import REPO_ROOT

#: What the Lambda runtime provides: the layer does not ship it.
LAMBDA_RUNTIME = {"boto3", "botocore"}


def pyproject() -> dict:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


def requirement_name(line: str) -> str:
    return re.split(r"[\[=<>!~ ;]", line, maxsplit=1)[0].lower()


def test_the_layer_requirements_are_pyprojects_minus_what_lambda_provides():
    declared = pyproject()["project"]["dependencies"]
    layer = [
        line.strip()
        for line in (REPO_ROOT / "layers" / "common" / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    assert sorted(layer) == sorted(d for d in declared if requirement_name(d) not in LAMBDA_RUNTIME)
    assert all("==" in line for line in layer)  # the layer ships exact versions


def test_fenv_is_an_installed_console_script():
    scripts = {e.name: e.value for e in importlib.metadata.entry_points(group="console_scripts")}

    assert pyproject()["project"]["scripts"] == {"fenv": "fenv_cli.app:main"}
    assert scripts["fenv"] == "fenv_cli.app:main"
    assert callable(importlib.metadata.entry_points(group="console_scripts")["fenv"].load())


def test_the_packages_import_without_path_edits():
    # (embedded_aws/lambdas.py still puts the layer first on the path for the handlers it runs,
    # as Lambda's /opt/python: that models the runtime, it is not how the packages import.)
    for path in [*(REPO_ROOT / "fenv_cli").glob("*.py"), REPO_ROOT / "embedded_aws/__init__.py"]:
        assert "sys.path" not in path.read_text(), path
    import fargate_env

    # installed editable: the layer's package is the working tree's
    assert Path(fargate_env.__file__).parent == REPO_ROOT / "layers" / "common" / "fargate_env"
    assert "pythonpath" not in pyproject()["tool"]["pytest"]["ini_options"]


def test_the_makefile_names_no_machines_paths():
    makefile = (REPO_ROOT / "Makefile").read_text()

    assert "/root/" not in makefile
    assert "/home/" not in makefile
    assert "pyenv root" in makefile
