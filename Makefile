# fargate-env: every command a user or CI needs. `make demo` and `make test` set everything up.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Prefer a python3.13 (the Lambda runtime); fall back to python3 (3.11+ works).
PYTHON_BOOTSTRAP ?= $(shell command -v python3.13 || ls /root/.pyenv/versions/3.13.*/bin/python3.13 2>/dev/null | tail -n1 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := .make-stamps
# SAM builds python3.13 functions with a python3.13 from PATH; append (never prepend) it.
PY313_DIR := $(dir $(shell command -v python3.13 || ls /root/.pyenv/versions/3.13.*/bin/python3.13 2>/dev/null | tail -n1))
SAM_ENV := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 PATH="$(CURDIR)/$(VENV)/bin:$$PATH:$(PY313_DIR)"
CHECKOV_VENV := .venv-checkov

export SAM_CLI_TELEMETRY := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help setup demo test check lint format schema emulator bench clean lock

help:
	@echo "make demo      set up, then provision the sample environment on the embedded AWS, verify it, tear it down"
	@echo "make test      set up, then run every check and the whole test suite"
	@echo "make check     the deploy path offline: lint, sam validate/build, cfn-lint, asl-validator, checkov"
	@echo "make emulator  a local AWS endpoint with the application deployed (Ctrl-C to stop)"
	@echo "make bench     simulated create/teardown times against AWS's floor, and the suite's wall time"
	@echo "make format    ruff format + fixes;  make schema  regenerate schema/environment-spec.schema.json"

$(STAMPS)/venv: pyproject.toml requirements/dev.txt requirements/constraints.txt
	@mkdir -p $(STAMPS)
	@test -x $(PY) || { echo "creating $(VENV) with $(PYTHON_BOOTSTRAP)"; $(PYTHON_BOOTSTRAP) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt -c requirements/constraints.txt
	$(PY) -m pip check
	@touch $@

setup: $(STAMPS)/venv

demo: setup
	$(PY) -m embedded_aws demo $(DEMO_ARGS)

emulator: setup
	$(PY) -m embedded_aws serve $(EMULATOR_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

schema: setup
	$(PY) -m embedded_aws schema > schema/environment-spec.schema.json

test: setup check
	$(PY) -m pytest $(PYTEST_ARGS)

check: lint

bench: setup
	$(PY) -m embedded_aws bench $(BENCH_ARGS)

lock:
	$(PY) -m pip freeze --exclude-editable | grep -v "^fargate-env" > requirements/constraints.txt

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(STAMPS) .aws-sam node_modules .pytest_cache .ruff_cache bench-output
