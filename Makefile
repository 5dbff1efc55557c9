# payintents: `make run` serves the API with a worker and beat; `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PAYINTENTS_DEV := 1

.PHONY: run test nodes deploy-check fuzz check lint types format openapi migrations bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q ".[dev]"
	@touch $@

run: $(STAMP) .env
	@$(PY) manage.py migrate --noinput -v 0
	@$(PY) manage.py collectstatic --noinput -v 0
	@$(PY) manage.py ensure_demo_account --quiet
	@exec $(PY) manage.py runall

# The dev checkout's own secret, generated once; settings read it, so every `manage.py` command
# works here as the README writes it. Production has no .env and must set SECRET_KEY itself.
.env:
	@umask 077 && $(PYTHON) -c "import secrets; print('SECRET_KEY=' + secrets.token_urlsafe(50))" > $@
	@echo "wrote .env with a generated SECRET_KEY (keep it; it is git-ignored)"

# Two workers (pytest-xdist), each module on one of them (its module-scoped servers started
# once); TEST_WORKERS=0 runs everything in this process.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The proof that many nodes keep the promises: `pip install .` into a clean venv, then its
# `payintents` script runs 2 web nodes behind HAProxy, 2 workers and 2 beats, all through
# PgBouncer in transaction pooling, under load, while a web node, a worker and the leading beat
# are killed (kill -9), a worker stopped and a web node drained (SIGTERM): tests/e2e/many_nodes.py.
# Needs haproxy and pgbouncer (Debian's), DATABASE_URL's server (it makes a database there) and
# REDIS_URL's database (flushed). A few minutes.
nodes: $(STAMP)
	$(PY) tests/e2e/many_nodes.py

# deploy/: the Kustomize base and overlay rendered by `kubectl kustomize` and every object
# validated against the Kubernetes schemas (kubernetes-validate); the compose file against the
# Compose specification's schema (vendored in deploy/schema/).
deploy-check: $(STAMP)
	$(PY) deploy/check.py

# Schemathesis over every operation with a larger budget than the suite's (FUZZ_EXAMPLES cases
# per operation); prints the number of cases, of 5xx answers and of failed checks.
fuzz: $(STAMP)
	mkdir -p .run; set -o pipefail; FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-300} $(PY) -m pytest -q -s -p no:warnings tests/test_fuzz.py \
	  | tee .run/fuzz.log | grep '^FUZZ' ; status=$$?; \
	  awk -F'[ =]' '/^FUZZ/ {for (i=1;i<=NF;i++) {if ($$i=="cases") c+=$$(i+1); if ($$i=="5xx") e+=$$(i+1); if ($$i=="failures") f+=$$(i+1)}} END {printf "fuzz: %d cases, %d 5xx, %d failed checks\n", c, e, f}' .run/fuzz.log; \
	  grep -E "passed|failed" .run/fuzz.log | tail -1; exit $$status

# What CI checks besides the tests.
check: lint types migrations openapi-check

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

# mypy (config in pyproject.toml [tool.mypy]): core and payments/attempts.py strict, the
# services with the defaults.
TYPED := core payments/attempts.py accounts/services.py cluster/services.py cluster/selectors.py cluster/beat.py events/services payments/services routing/services.py routing/selectors.py routing/routes.py routing/health.py \
	intents/services checkouts/services.py checkout_pages/services

types: $(STAMP)
	$(VENV)/bin/mypy $(TYPED)

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrations: $(STAMP)
	$(PY) manage.py makemigrations --check --dry-run

openapi: $(STAMP)
	$(PY) manage.py spectacular --format openapi-json --file docs/openapi.json --validate

openapi-check: $(STAMP)
	$(PY) manage.py spectacular --format openapi-json --file /tmp/payintents-openapi.json --validate
	diff -q docs/openapi.json /tmp/payintents-openapi.json || (echo "docs/openapi.json drifted: run 'make openapi'" && exit 1)

bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .run .broker db.sqlite3
