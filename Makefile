# fargate-env: every command a user or CI needs. `make demo` and `make test` set everything up.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# A python3.13 that runs (the Lambda runtime): a pyenv shim on PATH may name one that does not
# ("pyenv: python3.13: command not found"), so each candidate is tried, not just looked up: the
# one on PATH, then any 3.13 that pyenv (wherever its root is) has installed.
PYENV_ROOT_DIR := $(shell pyenv root 2>/dev/null)
PY313 := $(shell for p in python3.13 $(if $(PYENV_ROOT_DIR),$(PYENV_ROOT_DIR)/versions/3.13.*/bin/python3.13); do "$$p" -c "" >/dev/null 2>&1 && { command -v "$$p"; break; }; done)
# Prefer it; fall back to python3 (3.11+ works).
PYTHON_BOOTSTRAP ?= $(or $(PY313),$(shell command -v python3))
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := .make-stamps
# SAM builds python3.13 functions with a python3.13 from PATH; append (never prepend) it.
PY313_DIR := $(dir $(PY313))
SAM_ENV := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 PATH="$(CURDIR)/$(VENV)/bin:$$PATH:$(PY313_DIR)"
# `sam validate --lint` needs no region and no credentials: prove it by running it without them.
SAM_LINT_ENV := env -u AWS_DEFAULT_REGION -u AWS_REGION -u AWS_PROFILE SAM_CLI_TELEMETRY=0 PATH="$(CURDIR)/$(VENV)/bin:$$PATH"
CHECKOV_VENV := .venv-checkov
# make check's build output: the translated template, `sam build`'s artifacts and its cache.
CHECK_DIR := .aws-sam/check
TRANSLATED := $(CHECK_DIR)/translated.json
ASL_FILES := $(wildcard statemachine/*.asl.json)

export SAM_CLI_TELEMETRY := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help setup demo test check lint format schema asl emulator bench clean lock \
	check-sam check-build check-translated check-cfn-lint check-asl check-checkov check-workflows

help:
	@echo "make demo      set up, then provision the sample environment on the embedded AWS, verify it, tear it down"
	@echo "make test      set up, then run every check and the whole test suite"
	@echo "make check     the deploy path offline: lint, sam validate/build, cfn-lint, asl-validator, checkov"
	@echo "make emulator  a local AWS endpoint with the application deployed (Ctrl-C to stop)"
	@echo "make bench     simulated create/teardown times against AWS's floor, and the suite's wall time"
	@echo "make format    ruff format + fixes;  make schema  regenerate schema/environment-spec.schema.json"
	@echo "make asl       write statemachine/*.asl.json from tools/statemachines (checks their bounds)"

# The project itself is installed editable (fargate_env, fenv_cli, embedded_aws import from the
# working tree; `fenv` is on the virtualenv's PATH) with its emulator extra, beside the dev tools.
$(STAMPS)/venv: pyproject.toml requirements/dev.txt requirements/constraints.txt
	@mkdir -p $(STAMPS)
	@test -x $(PY) || { echo "creating $(VENV) with $(PYTHON_BOOTSTRAP)"; $(PYTHON_BOOTSTRAP) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt -e ".[emulator]" -c requirements/constraints.txt
	$(PY) -m pip check
	@touch $@

setup: $(STAMPS)/venv

# asl-validator (package.json / package-lock.json), installed once per lock file change.
$(STAMPS)/node: package.json package-lock.json
	@mkdir -p $(STAMPS)
	npm ci --no-audit --no-fund
	@touch $@

# checkov pins an old boto3: it gets a virtualenv of its own, never .venv.
$(STAMPS)/checkov: requirements/checkov.txt requirements/checkov-constraints.txt
	@mkdir -p $(STAMPS)
	@test -x $(CHECKOV_VENV)/bin/python || { echo "creating $(CHECKOV_VENV) with $(PYTHON_BOOTSTRAP)"; $(PYTHON_BOOTSTRAP) -m venv $(CHECKOV_VENV); }
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements/checkov.txt -c requirements/checkov-constraints.txt
	@touch $@

demo: setup
	$(PY) -m embedded_aws demo $(DEMO_ARGS)

emulator: setup
	$(PY) -m embedded_aws serve $(EMULATOR_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

schema: setup
	$(PY) -m embedded_aws schema > schema/environment-spec.schema.json

# The state machines are written by tools/statemachines (it refuses bounds that do not nest).
asl: setup
	$(PY) -m tools.statemachines

# In a random order, seeded (tests share nothing, so every order passes); another order:
# make test TEST_SEED=<n>. A plain `pytest` runs in file order (pyproject.toml).
TEST_SEED ?= 20261201
# Worker processes (pytest-xdist), each taking whole files: a flow module deploys its embedded
# AWS once. Two fit this project's 2-core machines; TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= 2

test: setup check
	$(PY) -m pytest -p randomly --randomly-seed=$(TEST_SEED) -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The deploy path, offline, with the real tools on the real files; any finding fails the target.
check: lint check-sam check-build check-cfn-lint check-asl check-checkov check-workflows

check-sam: setup
	$(SAM_LINT_ENV) $(VENV)/bin/sam validate --lint --template-file template.yaml
	$(SAM_ENV) $(VENV)/bin/sam validate --template-file template.yaml
	$(SAM_LINT_ENV) $(VENV)/bin/sam validate --lint --config-file samconfig.toml --config-env staging

# Every function and the layer, built the way `sam deploy` will package them (no container).
check-build: setup
	$(SAM_ENV) $(VENV)/bin/sam build --template-file template.yaml --parallel --cached \
		--cache-dir $(CHECK_DIR)/cache --build-dir $(CHECK_DIR)/build

# template.yaml as CloudFormation receives it (state machine definitions as objects).
check-translated: setup
	$(PY) -m tools.check_template translate $(TRANSLATED)

# No rule is ignored: the translated template lints clean (cfn-lint's W1020 on the layer's
# generated name does not occur with this template and SAM version).
check-cfn-lint: check-translated
	$(VENV)/bin/cfn-lint --format parseable $(TRANSLATED)

check-asl: setup $(STAMPS)/node
	$(PY) -m tools.statemachines --check
	node_modules/.bin/asl-validator $(foreach f,$(ASL_FILES),--json-path $(f))

# Zero failed checks on the raw and the translated template; every skip is written in
# template.yaml next to what it skips, with its reason (`make check` fails on one without).
check-checkov: $(STAMPS)/checkov check-translated
	$(PY) -m tools.check_template skips
	BC_SKIP_MAPPING=TRUE $(CHECKOV_VENV)/bin/checkov --quiet --compact --framework cloudformation \
		-f template.yaml -f $(TRANSLATED)

# The example GitHub workflows, with the virtualenv's shellcheck on PATH for their `run:` scripts.
WORKFLOWS := $(wildcard examples/github/*.yml)
check-workflows: setup
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/actionlint $(WORKFLOWS)

BENCH_ARGS ?= --with-suite
bench: setup
	$(PY) -m embedded_aws bench $(BENCH_ARGS)

lock:
	$(PY) -m pip freeze --exclude-editable | grep -v "^fargate-env" > requirements/constraints.txt
	$(CHECKOV_VENV)/bin/python -m pip freeze > requirements/checkov-constraints.txt

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(STAMPS) .aws-sam node_modules .pytest_cache .ruff_cache bench-output
