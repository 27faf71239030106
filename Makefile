# The project's entry points. Every target installs what it needs first (idempotent,
# quick when nothing changed); nothing is fetched from outside the package registries.
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
CONTRACTS := contracts
PAGE := relayer/portal/web
FORGE := tools/forge  # run inside $(CONTRACTS); see the script for why not node_modules/.bin/forge
export UV_CACHE_DIR ?= $(CURDIR)/.cache/uv
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: check-alerts install system-tools build image test test-contracts test-python lint typecheck check bench-gas bench-floor bench-pipeline devnet abi clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

install: $(VENV)/.installed $(CONTRACTS)/node_modules/.installed $(PAGE)/node_modules/.installed system-tools  ## create .venv/, contracts/node_modules/ and the page's node_modules/

# Debian packages the tests need: Mosquitto (a real broker), pg_dump (the key-leak
# check), docker-compose 1.29 (parses ops/docker-compose.yml and runs it in the container
# test), docker.io (the Docker 20.10 engine, started by ops/scripts/dockerd.sh: no systemd
# here) and debootstrap (builds the debian:bookworm-slim base image where no registry is
# reachable: ops/scripts/build-base-image.sh),
# the PostgreSQL server binaries (the e2e session restarts a private cluster of its own),
# chromium (Playwright drives it in the browser tests: the supervisor's view, the wallet
# page), promtool (Debian's prometheus: checks and unit-tests ops/monitoring/alerts.yml) and
# softhsm2 (a real PKCS#11 token for the HSM key tests).
SYSTEM_TOOLS := mosquitto:mosquitto mosquitto_passwd:mosquitto pg_dump:postgresql-client docker-compose:docker-compose openssl:openssl chromium:chromium promtool:prometheus softhsm2-util:softhsm2 dockerd:docker.io debootstrap:debootstrap
system-tools:
	missing=""; for pair in $(SYSTEM_TOOLS); do \
	  command -v "$${pair%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/$${pair%%:*}" ] || missing="$$missing $${pair##*:}"; \
	done; \
	command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.installed: requirements.lock pyproject.toml | $(UV)
	[ -x $(PY) ] || $(UV) venv --quiet --python $(PYTHON) $(VENV)
	$(UV) pip sync --quiet --python $(PY) requirements.lock
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	touch $@

$(CONTRACTS)/node_modules/.installed: $(CONTRACTS)/package.json $(CONTRACTS)/package-lock.json
	(cd $(CONTRACTS) && npm ci --no-audit --no-fund --loglevel=error)
	touch $@

# the wallet page's toolchain (viem, esbuild), pinned by its package-lock.json
$(PAGE)/node_modules/.installed: $(PAGE)/package.json $(PAGE)/package-lock.json
	(cd $(PAGE) && npm ci --no-audit --no-fund --loglevel=error)
	touch $@

lock: | $(UV)  ## re-resolve requirements.lock from pyproject.toml
	$(UV) pip compile pyproject.toml --group dev --generate-hashes --no-header --python-version 3.11 -o requirements.lock --quiet

build: install  ## compile the contracts, refresh the ABIs shipped in relayer/, bundle the wallet page
	(cd $(CONTRACTS) && $(FORGE) build --quiet)
	$(PY) -m relayer.chain.artifacts export
	(cd $(PAGE) && node build.mjs)  # relayer/portal/static/app.js, from src/ and the ABIs

image: system-tools  ## the relayer image (ops/Dockerfile) from the git-tracked files: conflux-bridge-relayer:local
	ops/scripts/build-image.sh conflux-bridge-relayer:local

test-contracts: build  ## forge unit, fuzz and invariant tests
	(cd $(CONTRACTS) && $(FORGE) test)

check-alerts: system-tools  ## promtool: validate ops/monitoring (rules, config) and run the rules' unit tests
	promtool check rules ops/monitoring/alerts.yml
	promtool check config ops/monitoring/prometheus.yml
	promtool test rules ops/monitoring/tests/*.yml

lint: install  ## ruff and mypy --strict
	$(VENV)/bin/ruff check relayer tests
	$(VENV)/bin/ruff format --check relayer tests
	$(VENV)/bin/mypy

test-python: build  ## pytest: unit, integration and end-to-end against the real stack
	$(VENV)/bin/pytest

test: build lint  ## everything CI runs
	(cd $(CONTRACTS) && $(FORGE) test)
	$(VENV)/bin/pytest

bench-gas: build  ## gas used by lock, release and unlock on anvil (JSON on the last line)
	$(PY) -m relayer.bench.gas

bench-floor: install  ## CPU per transfer of one relayer, piece by piece (JSON on the last line)
	$(PY) -m relayer.bench.floor

bench-pipeline: build  ## end-to-end throughput and latency (JSON on the last line)
	$(PY) -m relayer.bench.pipeline

devnet: build  ## a local bridge: Conflux dev node, anvil, broker, validators, demo transfer
	$(PY) -m relayer devnet $(DEVNET_ARGS)

clean:
	rm -rf $(CONTRACTS)/out $(CONTRACTS)/cache relayer/portal/static/app.js .devnet .pytest_cache .mypy_cache .ruff_cache
