# Every target builds its own virtual environment on first use, so a fresh clone needs only python3.
PY ?= python3
# The state-machine test runs 500 examples here and in CI (issue: >= 500 in CI).
export HYPOTHESIS_PROFILE ?= ci
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MUTMUT_CHILDREN ?= 1

.PHONY: run test lint typecheck unit clean bench soak schema mutants deps mosquitto web web-check

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Mosquitto: the tests start private brokers; Debian installs it to /usr/sbin.
mosquitto:
	@command -v mosquitto >/dev/null 2>&1 || test -x /usr/sbin/mosquitto || { \
	  echo "mosquitto is not installed: run 'make deps' (apt-get, as root)"; exit 1; }

# nats-server: the MQTT tests run against it too (a 3.1.1-only broker, specs/mqtt.md).
deps:
	command -v mosquitto >/dev/null 2>&1 || test -x /usr/sbin/mosquitto || \
	  { apt-get update -qq && apt-get install -y -qq mosquitto mosquitto-clients; }
	command -v nats-server >/dev/null 2>&1 || test -x /usr/sbin/nats-server || \
	  { apt-get update -qq && apt-get install -y -qq nats-server; }

# The embedded broker's ports: not 1883/8883, which a system mosquitto (Debian starts one when
# it is installed) usually holds; a busy port is an error, never a silent move.
BROKER_PORT ?= 1884
TLS_PORT ?= 8884
WEB_PORT ?= 8180

run: $(STAMP) mosquitto
	$(BIN)/cti serve --broker embedded --broker-port $(BROKER_PORT) --tls-port $(TLS_PORT) --web-port $(WEB_PORT) --log-level info

lint: $(STAMP)
	$(BIN)/ruff check cti phone_sim tests bench
	$(BIN)/ruff format --check cti phone_sim tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# Two workers (pytest-xdist): the tests wait on the brokers, nodes and browsers they start
# as much as they compute, and each has its own ports, directories and PostgreSQL schema.
unit: $(STAMP) mosquitto
	$(BIN)/pytest -n 2

test: lint typecheck web-check unit

# The web client (web/, specs/web.md): TypeScript (strict) and mqtt.js bundled by esbuild into
# cti/web/static. The bundle is committed, so `make run` and a pip install need no Node;
# `make web` rebuilds it after a change under web/, and `make web-check` (part of `make test`)
# type-checks the source, runs its unit tests (web/test, Node's test runner) and fails when the
# committed bundle is not what the source builds.
WEB_STAMP := web/node_modules/.package-lock.json

$(WEB_STAMP): web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $(WEB_STAMP)

web: $(WEB_STAMP)
	cd web && npm run --silent build

web-check: $(WEB_STAMP)
	@rm -rf web/.check web/.check-tests && cd web && npx tsc -p . && npm test --silent && node build.mjs .check
	@diff -r web/.check cti/web/static >/dev/null || { rm -rf web/.check; \
	  echo "cti/web/static is not what web/ builds: run 'make web' and commit it"; exit 1; }
	@rm -rf web/.check web/.check-tests
	@echo "web bundle current"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

# Benchmarks: a table on the console and bench/results.json (numbers in BENCHMARKS.md).
bench: $(STAMP)
	$(BIN)/python -m bench

# Soak (not in CI): SOAK_MINUTES of calls while memory is watched.
soak: $(STAMP)
	$(BIN)/python -m bench.soak

# Mutation testing (not in CI, an hour or more on a busy machine): mutmut mutates the services,
# evolve and routing of the call model (only_mutate in [tool.mutmut], pyproject.toml; set it to
# ["cti/calls/*"] for the whole model) and runs the fast calls tests against each mutant, one
# worker (MUTMUT_CHILDREN=2 for two). Always a fresh run; working files in mutants/
# (git-ignored). Prints the survivors and killed/survived/timeout/total per module; the
# reasons for the survivors are in TESTING.md.
mutants: $(STAMP)
	rm -rf mutants
	HYPOTHESIS_PROFILE=dev $(BIN)/mutmut run --max-children $(MUTMUT_CHILDREN)
	$(BIN)/mutmut results
	@printf "%-32s %7s %8s %7s %5s\n" module killed survived timeout total
	@$(BIN)/mutmut results --all true | awk -F': ' \
	  '{ m = $$1; sub(/^ +/, "", m); sub(/\.x[^.]*$$/, "", m); n[m]++; c[m, $$2]++ } \
	   END { for (m in n) printf "%-32s %7d %8d %7d %5d\n", m, c[m, "killed"], \
	           c[m, "survived"], c[m, "timeout"], n[m] }' | sort

# The JSON Schema contract is generated from the types (a test checks it is current).
schema: $(STAMP)
	$(BIN)/python -m cti.api.schema > specs/api.schema.json
