# The project's commands. Each sets up what it needs on a fresh machine: a pinned uv
# (bootstrapped with the machine's python3), then the locked environment in .venv.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
SAM_CLI_VERSION := 1.170.0
CHECKOV_VERSION := 3.3.30
AWSCLI_VERSION := 1.46.3
# template.yaml's Runtime (python3.13): sam build needs that Python on PATH
RUNTIME_PYTHON := 3.13
SAM = $(UV) tool run --quiet --from aws-sam-cli==$(SAM_CLI_VERSION) sam
AWS_PORT ?= 5000
TOOLS := .local/tools
UV := $(TOOLS)/bin/uv
VENV := .venv
REGION := eu-west-1
export SAM_CLI_TELEMETRY := 0
export UV_PROJECT_ENVIRONMENT := $(VENV)

.DEFAULT_GOAL := help
.PHONY: help setup lint lint-python lint-template test test-fast coverage run token aws build deploy currencies openapi bench mutate layer-requirements clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras --python $(PYTHON)
	@touch $@

## help: the targets, each with its one-line description (the default target)
help:
	@grep -E '^## [a-z][a-z-]*:' $(firstword $(MAKEFILE_LIST)) | sed -E 's/^## ([a-z-]+): /  make \1\t/' | expand -t 28

## setup: create .venv from the lock file
setup: $(VENV)/.synced

## lint: every check of the code and of the template (lint-python, then lint-template)
lint: lint-python lint-template

## lint-python: ruff (rules, complexity, format), mypy, import-linter (layers) and bandit
# (mccabe complexity <= 10; mypy strict for the shared package; bandit: Python security)
lint-python: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(VENV)/bin/bandit --quiet --recursive layers functions local admin

## lint-template: cfn-lint, `sam validate --lint` and checkov (the template's policy)
# (least privilege, encryption, PITR; each accepted finding is justified in the template).
# SAM CLI and checkov run as separate tools, not in .venv.
lint-template: setup
	$(VENV)/bin/cfn-lint template.yaml
	$(UV) tool run --from aws-sam-cli==$(SAM_CLI_VERSION) \
		sam validate --lint --region $(REGION) --template template.yaml
	$(UV) tool run --from checkov==$(CHECKOV_VERSION) \
		checkov --file template.yaml --framework cloudformation --compact --quiet --skip-download

## test: set everything up, lint, then run the whole test suite
test: lint
	$(VENV)/bin/python -m pytest

## currencies: regenerate the ISO 4217 list (models/iso4217.py) from pycountry
currencies: setup
	$(VENV)/bin/python tools/currencies.py
	$(VENV)/bin/ruff format --quiet layers/connector/toqio_connector/models/iso4217.py

## coverage: the whole suite with a coverage report; fails under pyproject.toml's floor
# (missing lines of the shared package, the functions and toqio-admin). Slower than
# `make test`, so not part of it
coverage: setup
	$(VENV)/bin/python -m pytest --cov --cov-report=term-missing

## test-fast: the unit tests only (tests/unit), in seconds, without lint
# (no AWS emulator, no process started). tests/aws (moto, in-process) and tests/http (the
# runner over HTTP) run with the rest in `make test`
test-fast: setup
	$(VENV)/bin/python -m pytest -q tests/unit

## build: `sam build` for Lambda (pinned SAM CLI, telemetry off, Python 3.13 found or installed)
# (functions without a requirements.txt of their own use the layer's)
build: $(UV)
	PATH="$$(tools/runtime-python $(RUNTIME_PYTHON) $(UV)):$$PATH" $(SAM) build --template template.yaml

## deploy: build, then `sam deploy` (guided the first time, saving samconfig.toml)
deploy: build
	if [ -f samconfig.toml ]; then $(SAM) deploy; else $(SAM) deploy --guided; fi

## openapi: regenerate docs/openapi*.json from the code and the registries
openapi: setup
	$(VENV)/bin/python -m toqio_connector.openapi docs

## layer-requirements: pin the Lambda layer's packages (layers/connector/requirements.txt) to uv.lock
# (less what the Lambda runtime already has: boto3, botocore and their own dependencies)
layer-requirements: $(UV)
	{ echo "# Generated from uv.lock by \`make layer-requirements\`: the Lambda layer's packages,"; \
	  echo "# pinned. boto3/botocore and their dependencies come with the Lambda runtime."; \
	  $(UV) export --frozen --no-dev --no-emit-project --no-hashes --no-annotate --no-header \
	    | grep -v -E '^(boto3|botocore|s3transfer|python-dateutil|six|urllib3)=='; \
	} > layers/connector/requirements.txt

## bench: first-request cold starts, warm latency and AWS calls, each beside its floor
# (plain boto3 making the same calls; prints a table, writes bench-results/latest.json);
# then the slowest answer to a hostile body of up to 64 KiB, quiet and beside two
# CPU-bound processes, against 1 s (`bench/run.py --bodies-only` runs just that)
bench: setup
	$(VENV)/bin/python bench/run.py

## mutate: mutation testing of the rules, prints the kill rate (slow: not in `make test`)
# (mutmut over the rule modules, in a staged copy under build/mutate); lists every
# survivor not explained in docs/mutation.md
mutate: setup
	$(VENV)/bin/python tools/mutate.py

## run: the API on :3000, an AWS emulator on :5000, a sandbox provider on :5001 (*_PORT override)
run: setup
	$(VENV)/bin/python -m toqio_local

## aws: the AWS CLI against `make run`'s emulator: make aws ARGS="dynamodb list-tables"
# (pinned, run through uv, kept out of .venv; fake credentials, --endpoint-url)
aws: $(UV)
	@AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=$(REGION) \
	  $(UV) tool run --quiet --from awscli==$(AWSCLI_VERSION) \
	  aws --endpoint-url http://127.0.0.1:$(AWS_PORT) --region $(REGION) $(ARGS)

## token: a Bearer token for CUSTOMER_ID, valid 1 h against `make run` (last line of stdout)
token: setup
	@$(VENV)/bin/python -m toqio_local.devkeys "$$CUSTOMER_ID"  # from the environment: any id, quotes too

## clean: remove .venv and what builds and tests leave (.aws-sam, caches, .coverage)
clean:
	rm -rf $(VENV) .pytest_cache .aws-sam .mypy_cache .coverage
