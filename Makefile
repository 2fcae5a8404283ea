# CostSim M6 — everything a fresh machine needs, in two commands (see README):
#   make run          set up, materialize the whole asset graph, then serve the Dagster UI (and the API)
#   make test         set up and run the test suite with the coverage gate (what CI runs)
#   make demo-breach  (beside a running `make run`) a breaching canary day: the kill switch acts
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SHARED_TRACE := $(abspath ../shared/data/azure-llm-inference-2023/AzureLLMInferenceTrace_code.csv)
PUBLIC_TRACE := https://raw.githubusercontent.com/Azure/AzurePublicDataset/master/data/AzureLLMInferenceTrace_code.csv

export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export COSTSIM_DATABASE_URL ?= sqlite:///$(CURDIR)/.artifacts/costsim.db
export COSTSIM_ARTIFACT_ROOT ?= $(CURDIR)/.artifacts
export COSTSIM_HISTORICAL_SOURCE ?= $(if $(wildcard $(SHARED_TRACE)),$(SHARED_TRACE),$(PUBLIC_TRACE))
export COSTSIM_ANONYMIZATION_SALT ?= local-development-salt
export COSTSIM_REPLAY_SOURCE ?=
export COSTSIM_REPLAY_SHA256 ?=
export COSTSIM_SLACK_WEBHOOK_URL ?=
# Optional settings Dagster still resolves (dg.EnvVar fails on an unset variable): empty = unused.
export COSTSIM_SANDBOX_DATABASE_URL ?=
export COSTSIM_TENANTS_FILE ?=
export COSTSIM_SENSOR_INTERVAL_S ?= 10
PORT ?= 3000
export API_PORT ?= 8080
export COSTSIM_API_BASE_URL ?= http://127.0.0.1:$(API_PORT)
export COSTSIM_SIGNING_KEYS ?= $(shell bash scripts/local-signing-key.sh)
DAY ?= $(shell date -u -d yesterday +%F)
DEMO_DAY ?= $(shell date -u -d '2 days ago' +%F)

.PHONY: setup tools render-k8s materialize run test validate demo-breach clients typescript
setup: $(BIN)/.installed

tools:
	bash scripts/install-promtool.sh
	bash scripts/install-helm.sh

render-k8s: tools
	bash scripts/render-k8s.sh

$(BIN)/.installed: pyproject.toml constraints.txt clients/python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]' -e clients/python
	touch $@

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME) && cp dagster.yaml $@

validate: setup
	$(BIN)/dagster definitions validate -w workspace.yaml

materialize: setup $(DAGSTER_HOME)/dagster.yaml
	BIN=$(BIN) DAY=$(DAY) bash scripts/materialize.sh

demo-breach: setup $(DAGSTER_HOME)/dagster.yaml
	BIN=$(BIN) DAY=$(DEMO_DAY) bash scripts/demo-breach.sh

run: materialize
	PORT=$(PORT) BIN=$(BIN) bash scripts/run-local.sh

# The TypeScript client's tools, exactly as locked (its suite runs inside pytest against a live API).
typescript:
	cd clients/typescript && npm ci --no-audit --no-fund

# Regenerate the SDKs' single source of truth and what is generated from it (commit the result).
clients: setup typescript
	$(BIN)/python scripts/export_openapi.py clients/openapi.json
	cd clients/typescript && npm run generate

test: setup tools typescript
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q --cov=costsim_assets --cov-report=term --cov-fail-under=90
