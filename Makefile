# The project's commands. Each sets up what it needs on a fresh machine: a pinned uv
# (bootstrapped with the machine's python3), then the locked environment in .venv.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
SAM_CLI_VERSION := 1.170.0
CHECKOV_VERSION := 3.3.30
TOOLS := .local/tools
UV := $(TOOLS)/bin/uv
VENV := .venv
REGION := eu-west-1
export SAM_CLI_TELEMETRY := 0
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: setup lint test test-fast run token openapi bench mutate layer-requirements clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras --python $(PYTHON)
	@touch $@

## setup: create .venv from the lock file
setup: $(VENV)/.synced

## lint: ruff, bandit (Python security), cfn-lint, `sam validate --lint`, and checkov
## (template policy: least privilege, encryption, PITR; each accepted finding is
## justified in the template). SAM CLI and checkov run as separate tools, not in .venv.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/bandit --quiet --recursive layers functions local admin
	$(VENV)/bin/cfn-lint template.yaml
	$(UV) tool run --from aws-sam-cli==$(SAM_CLI_VERSION) \
		sam validate --lint --region $(REGION) --template template.yaml
	$(UV) tool run --from checkov==$(CHECKOV_VERSION) \
		checkov --file template.yaml --framework cloudformation --compact --quiet --skip-download

## test: set everything up, lint, then run the whole test suite
test: lint
	$(VENV)/bin/python -m pytest

## test-fast: the unit tests only (tests/unit: no AWS emulator, no process started), in
## seconds; no lint. tests/aws (moto, in-process) and tests/http (the runner over HTTP)
## run with the rest in `make test`
test-fast: setup
	$(VENV)/bin/python -m pytest -q tests/unit

## openapi: regenerate docs/openapi*.json from the code and the registries
openapi: setup
	$(VENV)/bin/python -m toqio_connector.openapi docs

## layer-requirements: pin the Lambda layer's packages to uv.lock (less what the
## Lambda runtime already has: boto3, botocore and their own dependencies)
layer-requirements: $(UV)
	{ echo "# Generated from uv.lock by \`make layer-requirements\`: the Lambda layer's packages,"; \
	  echo "# pinned. boto3/botocore and their dependencies come with the Lambda runtime."; \
	  $(UV) export --frozen --no-dev --no-emit-project --no-hashes --no-annotate --no-header \
	    | grep -v -E '^(boto3|botocore|s3transfer|python-dateutil|six|urllib3)=='; \
	} > layers/connector/requirements.txt

## bench: cold starts, warm latency and AWS calls per operation, each beside its boto3
## floor (prints a table, writes bench-results/latest.json)
bench: setup
	$(VENV)/bin/python bench/run.py

## mutate: mutation testing of the rules (mutmut over the rule modules of
## layers/connector/toqio_connector, in a staged copy under build/mutate); prints the kill
## rate and every survivor not explained in docs/mutation.md. Slow: not part of `make test`
mutate: setup
	$(VENV)/bin/python tools/mutate.py

## run: the API on :3000 and an AWS emulator on :5000 (API_PORT / AWS_PORT override)
run: setup
	$(VENV)/bin/python -m toqio_local

## token: a Bearer token for CUSTOMER_ID, valid 1 h against `make run` (last line of stdout)
token: setup
	@$(VENV)/bin/python -m toqio_local.devkeys "$$CUSTOMER_ID"  # from the environment: any id, quotes too

clean:
	rm -rf $(VENV) .pytest_cache .aws-sam
